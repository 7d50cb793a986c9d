package backend

import (
	"littleecom.io/littleecom/services/backend/store"
	"littleecom.io/littleecom/services/internal/metrics"
)

// registerItemCacheMetrics exports the item cache's lookups: the hit ratio says whether
// ITEM_CACHE_TTL and ITEM_CACHE_SIZE suit the shop's traffic.
func registerItemCacheMetrics(m *metrics.Metrics, st *store.Store) {
	m.CounterFunc("item_cache_hits_total", "GET /item/{id} lookups answered from the item cache.",
		func() float64 { return float64(st.ItemCacheStats().Hits) })
	m.CounterFunc("item_cache_misses_total",
		"GET /item/{id} lookups that read the database (cache off, suspended, cold or expired).",
		func() float64 { return float64(st.ItemCacheStats().Misses) })
}
