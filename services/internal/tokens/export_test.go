package tokens

// CacheLen exposes the verified-token cache size to tests.
func CacheLen(v *Verifier) int {
	v.cache.mu.RLock()
	defer v.cache.mu.RUnlock()
	return len(v.cache.entries)
}
