package backend

import (
	"context"
	"sync"
	"time"

	"littleecom.io/littleecom/services/internal/tokens"
)

// tokenCache remembers tokens that verified, so a client's next requests with the same token
// skip the Ed25519 signature check (most of an authenticated request's own CPU). The key is
// the whole token, so only the exact bytes that were verified match. An entry lives until the
// token expires, and at most tokenCacheMaxAge, so a key auth withdraws from its JWKS stops
// being trusted here within that time, as with the JWKS client's own cache. Refusals are
// never cached.
type tokenCache struct {
	next TokenVerifier
	now  func() time.Time

	mu      sync.Mutex
	entries map[string]tokenEntry
}

type tokenEntry struct {
	claims *tokens.Claims
	until  time.Time
}

const (
	tokenCacheMaxAge  = time.Minute
	tokenCacheEntries = 10000 // a few MB at most; when full it is emptied, not grown
)

var _ TokenVerifier = (*tokenCache)(nil)

func newTokenCache(next TokenVerifier) *tokenCache {
	return &tokenCache{next: next, now: time.Now, entries: map[string]tokenEntry{}}
}

// Verify implements TokenVerifier.
func (c *tokenCache) Verify(ctx context.Context, raw string) (*tokens.Claims, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[raw]
	c.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.claims, nil
	}
	claims, err := c.next.Verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	until := now.Add(tokenCacheMaxAge)
	if claims.ExpiresAt != nil && claims.ExpiresAt.Before(until) {
		until = claims.ExpiresAt.Time
	}
	c.mu.Lock()
	if len(c.entries) >= tokenCacheEntries {
		clear(c.entries) // simpler than LRU, and a full cache refills in one round of requests
	}
	c.entries[raw] = tokenEntry{claims: claims, until: until}
	c.mu.Unlock()
	return claims, nil
}
