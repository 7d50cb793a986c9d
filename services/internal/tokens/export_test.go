package tokens

import "time"

// CacheLen exposes the verified-token cache size to tests.
func CacheLen(v *Verifier) int {
	v.cache.mu.RLock()
	defer v.cache.mu.RUnlock()
	return len(v.cache.entries)
}

// AllowRefetch lets the next unknown kid fetch the key set, whatever MinRefreshInterval says.
func AllowRefetch(c *JWKSClient) {
	c.refetchMu.Lock()
	defer c.refetchMu.Unlock()
	c.refetchedAt = time.Time{}
}
