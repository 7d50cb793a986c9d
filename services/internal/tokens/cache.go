package tokens

import (
	"sync"
	"time"
)

// DefaultCacheSize bounds the verified-token cache: enough for every active client of a
// shop, at a few hundred bytes each.
const DefaultCacheSize = 10000

// verifiedCache remembers tokens that passed verification until they expire. A client sends
// the same access token with every request for its whole lifetime, and the signature check
// dominates the CPU cost of an authenticated request; a map lookup replaces it. Only
// successes are cached, so a refused token is checked afresh every time. A token signed
// with a key auth later withdraws stays trusted until it expires (the access-token TTL).
type verifiedCache struct {
	max int

	mu      sync.RWMutex
	entries map[string]cached
}

type cached struct {
	claims Claims
	exp    time.Time
}

func newVerifiedCache(max int) *verifiedCache {
	return &verifiedCache{max: max, entries: make(map[string]cached)}
}

// get returns a copy of the claims of a cached token that has not expired at now.
func (c *verifiedCache) get(token string, now time.Time) (*Claims, bool) {
	if c == nil || c.max <= 0 {
		return nil, false
	}
	c.mu.RLock()
	e, ok := c.entries[token]
	c.mu.RUnlock()
	if !ok || !now.Before(e.exp) {
		return nil, false
	}
	claims := e.claims
	return &claims, true
}

func (c *verifiedCache) put(token string, claims *Claims, now time.Time) {
	if c == nil || c.max <= 0 || claims.ExpiresAt == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		c.evict(now)
	}
	c.entries[token] = cached{claims: *claims, exp: claims.ExpiresAt.Time}
}

// evict drops expired entries and, if that frees too little, an arbitrary tenth: map
// iteration order is random enough to keep this from being a pathological policy.
func (c *verifiedCache) evict(now time.Time) {
	for k, e := range c.entries {
		if !now.Before(e.exp) {
			delete(c.entries, k)
		}
	}
	drop := len(c.entries) - c.max + c.max/10 + 1
	for k := range c.entries {
		if drop <= 0 {
			break
		}
		delete(c.entries, k)
		drop--
	}
}
