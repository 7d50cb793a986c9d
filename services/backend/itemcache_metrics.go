package backend

import (
	"github.com/prometheus/client_golang/prometheus"

	"littleecom.io/littleecom/services/backend/store"
	"littleecom.io/littleecom/services/internal/metrics"
)

// registerItemCacheMetrics exports the item cache's lookups: the hit ratio says whether
// ITEM_CACHE_TTL and ITEM_CACHE_SIZE suit the shop's traffic.
func registerItemCacheMetrics(m *metrics.Metrics, st *store.Store) {
	labels := prometheus.Labels{"service": "backend"}
	m.Registry.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "littleecom", Name: "item_cache_hits_total", ConstLabels: labels,
			Help: "GET /item/{id} lookups answered from the item cache.",
		}, func() float64 { return float64(st.ItemCacheStats().Hits) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "littleecom", Name: "item_cache_misses_total", ConstLabels: labels,
			Help: "GET /item/{id} lookups that read the database (cache off, suspended, cold or expired).",
		}, func() float64 { return float64(st.ItemCacheStats().Misses) }),
	)
}
