package tokens

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/time/rate"

	"littleecom.io/littleecom/services/internal/tracing"
)

// jwksRefreshInterval is how often the key set is fetched in the background, so that a key
// auth withdrew eventually stops verifying new tokens.
const jwksRefreshInterval = 10 * time.Minute

// jwksFetchTimeout bounds one fetch of the key set.
const jwksFetchTimeout = 5 * time.Second

// JWKSClient fetches auth's JWKS and caches the keys. keyfunc and jwkset do the fetching,
// parsing, caching, background refresh and the alg/use checks. This type wraps them thinly
// for what they cannot express:
//
//   - A token with an unknown kid (auth rotated its key) triggers a refetch at most once per
//     MinRefreshInterval, so that a flood of forged kids cannot turn backend into a load
//     generator against auth. jwkset's own limiter makes the request wait for its turn
//     (and its wait bound also bounds the fetch); here a request over the limit is answered
//     at once from the cache.
//   - A fetch failure is told apart from an unknown kid: jwkset reports both as "key not
//     found", but the Verifier must answer 503 (retry) when auth is unreachable and 401
//     (drop your token) only when auth's keys really do not include the kid. The client
//     remembers the outcome of the last fetch for that.
//   - Only Ed25519 keys are returned (KeySource's type): jwkset accepts RSA and EC keys too.
//
// A key already cached keeps verifying while auth is down: a failed fetch leaves the cache
// as it was.
type JWKSClient struct {
	url string

	// MinRefreshInterval bounds how often an unknown kid may cause a fetch.
	MinRefreshInterval time.Duration

	cached  keyfunc.Keyfunc // reads the cache only
	refetch keyfunc.Keyfunc // fetches the set again when the kid is not cached

	refetchMu   sync.Mutex // one refetch at a time; waiters then find the key in the cache
	refetchedAt time.Time  // guarded by refetchMu

	mu      sync.Mutex
	lastErr error // of the latest fetch; nil once one succeeded
}

// NewJWKSClient returns a client for the JWKS at url. It fetches the set once before it
// returns and then every ten minutes until ctx ends. A failure of that first fetch is
// remembered, not returned, and does not count against MinRefreshInterval. The error is for
// a url that does not parse.
func NewJWKSClient(ctx context.Context, url string, opts ...JWKSOption) (*JWKSClient, error) {
	o := jwksOptions{transport: http.DefaultTransport}
	for _, opt := range opts {
		opt(&o)
	}
	c := &JWKSClient{url: url, MinRefreshInterval: 5 * time.Second, refetchedAt: time.Now()}
	httpStore, err := jwkset.NewStorageFromHTTP(url, jwkset.HTTPClientStorageOptions{
		Client:                    &http.Client{Timeout: jwksFetchTimeout, Transport: jwksTransport{o.transport}},
		Ctx:                       ctx,
		HTTPTimeout:               jwksFetchTimeout,
		NoErrorReturnFirstHTTPReq: true,
		RefreshErrorHandler:       c.fetchFailed,
		RefreshInterval:           jwksRefreshInterval,
		Storage:                   &observedStorage{Storage: jwkset.NewMemoryStorage(), replaced: c.fetched},
	})
	if err != nil {
		return nil, fmt.Errorf("jwks client for %s: %w", url, err)
	}
	if c.fetchErr() != nil {
		// auth was not up yet (it may start after backend): let the first token fetch at once,
		// as the first fetch then is the one that matters.
		c.refetchedAt = time.Time{}
	}
	refetching, err := jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
		HTTPURLs: map[string]jwkset.Storage{url: httpStore},
		// Always allowed: Key decides whether a miss may fetch, without making anyone wait.
		RefreshUnknownKID: rate.NewLimiter(rate.Inf, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("jwks client for %s: %w", url, err)
	}
	// "sig" or no use at all: a key published for encryption must not verify tokens.
	use := []jwkset.USE{jwkset.UseSig, ""}
	if c.cached, err = keyfunc.New(keyfunc.Options{Ctx: ctx, Storage: httpStore, UseWhitelist: use}); err != nil {
		return nil, fmt.Errorf("jwks client for %s: %w", url, err)
	}
	if c.refetch, err = keyfunc.New(keyfunc.Options{Ctx: ctx, Storage: refetching, UseWhitelist: use}); err != nil {
		return nil, fmt.Errorf("jwks client for %s: %w", url, err)
	}
	return c, nil
}

// JWKSOption configures a JWKSClient.
type JWKSOption func(*jwksOptions)

type jwksOptions struct {
	transport http.RoundTripper
}

// WithTracerProvider gives the key fetches client spans of tp (nil: the process-wide
// provider) and passes the trace context on to auth, so a fetch shows in the request that
// caused it.
func WithTracerProvider(tp trace.TracerProvider) JWKSOption {
	return func(o *jwksOptions) { o.transport = tracing.Transport(o.transport, tp) }
}

// Key implements KeySource.
func (c *JWKSClient) Key(ctx context.Context, kid string) (ed25519.PublicKey, error) {
	if k, err := lookup(ctx, c.cached, kid); !errors.Is(err, jwkset.ErrKeyNotFound) {
		return k, err
	}
	c.refetchMu.Lock()
	defer c.refetchMu.Unlock()
	kf := c.cached // a refetch while we waited may have brought the key
	if time.Since(c.refetchedAt) >= c.MinRefreshInterval {
		kf, c.refetchedAt = c.refetch, time.Now()
	}
	k, err := lookup(ctx, kf, kid)
	if !errors.Is(err, jwkset.ErrKeyNotFound) {
		return k, err
	}
	if err := c.fetchErr(); err != nil {
		// The kid may well be auth's: we could not ask. Say so, or a valid token would be
		// refused as signed by an unknown key.
		return nil, err
	}
	return nil, fmt.Errorf("kid %q: %w", kid, ErrUnknownKey)
}

// lookup asks kf for the key of an EdDSA token with kid, the only tokens the Verifier
// accepts. A kid that is not cached comes back as jwkset.ErrKeyNotFound; a key keyfunc
// refuses (alg or use) or that is not Ed25519 as ErrUnknownKey.
func lookup(ctx context.Context, kf keyfunc.Keyfunc, kid string) (ed25519.PublicKey, error) {
	tok := &jwt.Token{Header: map[string]any{"alg": jwt.SigningMethodEdDSA.Alg(), "kid": kid}}
	key, err := kf.KeyfuncCtx(ctx)(tok)
	switch {
	case errors.Is(err, jwkset.ErrKeyNotFound):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("kid %q: %w: %w", kid, ErrUnknownKey, err)
	}
	pub, ok := key.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("kid %q is a %T, not Ed25519: %w", kid, key, ErrUnknownKey)
	}
	return pub, nil
}

func (c *JWKSClient) fetchFailed(_ context.Context, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lastErr = fmt.Errorf("fetch jwks %s: %w", c.url, err)
}

func (c *JWKSClient) fetched() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lastErr = nil
}

func (c *JWKSClient) fetchErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastErr
}

// observedStorage tells the client when a fetch succeeded: jwkset replaces the whole cache
// then, and only then; a failed fetch goes to the RefreshErrorHandler instead.
type observedStorage struct {
	jwkset.Storage
	replaced func()
}

func (s *observedStorage) KeyReplaceAll(ctx context.Context, keys []jwkset.JWK) error {
	if err := s.Storage.KeyReplaceAll(ctx, keys); err != nil {
		return err
	}
	s.replaced()
	return nil
}

// jwksTransport asks for JSON and reads at most 1 MiB of the answer: a misconfigured URL
// must not make backend buffer whatever it points at.
type jwksTransport struct{ next http.RoundTripper }

func (t jwksTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Accept", "application/json")
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.LimitReader(resp.Body, 1<<20), resp.Body}
	return resp, nil
}
