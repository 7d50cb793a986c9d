package tokens

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"littleecom.io/littleecom/services/internal/tracing"
)

// JWKSClient fetches auth's JWKS and caches the keys. A token with an unknown kid (auth
// rotated its key) triggers a refetch, at most once per MinRefreshInterval so that a flood of
// forged kids cannot turn backend into a load generator against auth.
type JWKSClient struct {
	url    string
	client *http.Client

	// MinRefreshInterval bounds how often an unknown kid may cause a fetch.
	MinRefreshInterval time.Duration
	// MaxAge makes a known kid's cache entry refresh in the background of a request after
	// this long, so a revoked key eventually disappears.
	MaxAge time.Duration

	fetchMu sync.Mutex // one fetch at a time; waiters reuse its result

	mu        sync.RWMutex
	keys      map[string]ed25519.PublicKey
	fetchedAt time.Time
	triedAt   time.Time
	lastErr   error // of the fetch at triedAt
}

// NewJWKSClient returns a client for the JWKS at url with a 5 s timeout per fetch.
func NewJWKSClient(url string) *JWKSClient {
	return &JWKSClient{
		url:                url,
		client:             &http.Client{Timeout: 5 * time.Second},
		MinRefreshInterval: 5 * time.Second,
		MaxAge:             10 * time.Minute,
	}
}

// Traced gives the key fetches client spans of tp (nil: the process-wide provider) and
// passes the trace context on to auth, so a fetch shows in the request that caused it.
func (c *JWKSClient) Traced(tp trace.TracerProvider) {
	c.client.Transport = tracing.Transport(c.client.Transport, tp)
}

// Key implements KeySource.
func (c *JWKSClient) Key(ctx context.Context, kid string) (ed25519.PublicKey, error) {
	c.mu.RLock()
	k, ok := c.keys[kid]
	stale := time.Since(c.fetchedAt) > c.MaxAge
	c.mu.RUnlock()
	if ok && !stale {
		return k, nil
	}
	if err := c.refresh(ctx); err != nil {
		if ok {
			return k, nil // keep verifying with the cached key while auth is unreachable
		}
		return nil, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if k, ok := c.keys[kid]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("kid %q: %w", kid, ErrUnknownKey)
}

func (c *JWKSClient) refresh(ctx context.Context) error {
	c.fetchMu.Lock()
	defer c.fetchMu.Unlock()
	c.mu.RLock()
	recent, lastErr := time.Since(c.triedAt) < c.MinRefreshInterval, c.lastErr
	c.mu.RUnlock()
	if recent {
		// A fetch just happened (perhaps while we waited): use its result. If it failed, say
		// so, or a valid token would be refused as signed by an unknown key.
		return lastErr
	}
	err := c.fetch(ctx)
	c.mu.Lock()
	c.lastErr = err
	c.mu.Unlock()
	return err
}

func (c *JWKSClient) fetch(ctx context.Context) error {
	c.mu.Lock()
	c.triedAt = time.Now()
	c.mu.Unlock()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return fmt.Errorf("jwks request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("fetch jwks %s: %w", c.url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch jwks %s: %s", c.url, resp.Status)
	}
	var set JWKS
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return fmt.Errorf("decode jwks %s: %w", c.url, err)
	}
	keys := make(map[string]ed25519.PublicKey, len(set.Keys))
	for _, k := range set.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		pub, err := k.PublicKey()
		if err != nil {
			continue // a key we cannot use must not hide the ones we can
		}
		keys[k.Kid] = pub
	}
	c.mu.Lock()
	c.keys, c.fetchedAt = keys, time.Now()
	c.mu.Unlock()
	return nil
}
