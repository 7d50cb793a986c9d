package backend

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/trace"

	"littleecom.io/littleecom/internal/cors"
	"littleecom.io/littleecom/services/backend/store"
	"littleecom.io/littleecom/services/internal/health"
	"littleecom.io/littleecom/services/internal/httpx"
	"littleecom.io/littleecom/services/internal/mailaddr"
	"littleecom.io/littleecom/services/internal/metrics"
	"littleecom.io/littleecom/services/internal/problem"
	"littleecom.io/littleecom/services/internal/tokens"
)

// TokenVerifier checks an access token; *tokens.Verifier is the real one. Its errors are
// problem errors (401, or 503 when auth's keys cannot be fetched).
type TokenVerifier interface {
	Verify(ctx context.Context, raw string) (*tokens.Claims, error)
}

var _ TokenVerifier = (*tokens.Verifier)(nil)

// Deps are what the HTTP layer needs.
type Deps struct {
	Store    *store.Store
	Verifier TokenVerifier
	Metrics  *metrics.Metrics
	Log      *slog.Logger
	CORS     cors.Policy
	// Ready are the /readyz checks by dependency name.
	Ready map[string]func(context.Context) error
	// ReadyOptional are reported by /readyz without making the backend unready.
	ReadyOptional map[string]func(context.Context) error
	// Deleted, when set, says which account ids auth deleted (deletions.go).
	Deleted DeletedAccounts
	// Tracing makes the requests' server spans; nil is the process-wide provider.
	Tracing trace.TracerProvider
}

// DeletedAccounts knows the accounts auth deleted.
type DeletedAccounts interface {
	Deleted(accountID string) bool
}

// Service serves the backend's REST API.
type Service struct {
	store    *store.Store
	verifier TokenVerifier
	metrics  *metrics.Metrics
	log      *slog.Logger
	cors     cors.Policy
	ready    http.Handler
	listings *coalescer[listingKey, listing]
	deleted  DeletedAccounts
	tracing  trace.TracerProvider
}

// New returns the service for d.
func New(d Deps) *Service {
	if d.Metrics == nil {
		d.Metrics = metrics.New("backend")
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &Service{
		store: d.Store, verifier: d.Verifier, metrics: d.Metrics, log: d.Log, cors: d.CORS,
		ready:    health.WithOptional(d.Log, d.Ready, d.ReadyOptional),
		listings: newCoalescer[listingKey, listing](requestTimeout),
		deleted:  d.Deleted,
		tracing:  d.Tracing,
	}
}

// Handler is the whole HTTP API with its middleware: panics become 500s, every request has
// an id, a server span and a log line, CORS when configured (off when an edge answers it),
// metrics by route.
func (s *Service) Handler() http.Handler {
	return httpx.Stack(s.routes(), s.log, s.cors, s.metrics.HTTPMiddleware(nil), s.tracing)
}

// ManagementHandler serves the probes and metrics, for the management port only.
func (s *Service) ManagementHandler() http.Handler {
	return health.Management(s.ready, s.metrics.Handler())
}

// requestTimeout bounds the database work of one request, well inside the server's
// WriteTimeout, so a stuck database answers 500 (or 503) instead of holding connections. It
// bounds a shared listing query too (see coalesce.go).
const requestTimeout = 10 * time.Second

// handle adapts a handler that returns an error: errors become problem+json bodies. It also
// bounds the request's context by requestTimeout.
func (s *Service) handle(fn func(http.ResponseWriter, *http.Request) error) http.Handler {
	return httpx.Errors(func(w http.ResponseWriter, r *http.Request) error {
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		return fn(w, r.WithContext(ctx))
	})
}

// authed is handle for routes that need a caller: it verifies the bearer token locally and
// passes the caller's account on: the token's subject, which permission checks compare, and
// its canonical e-mail. A token of a deleted account is refused as soon as the backend
// knows of the deletion (deletions.go), not only when it expires.
func (s *Service) authed(fn func(w http.ResponseWriter, r *http.Request, caller store.Account) error) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		raw := tokens.BearerToken(r)
		if raw == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="littleecom"`)
			return problem.Unauthorizedf("missing bearer token")
		}
		claims, err := s.verifier.Verify(r.Context(), raw)
		if err != nil {
			if problem.CodeOf(err) == problem.Unauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="littleecom", error="invalid_token"`)
			}
			return err
		}
		email, err := mailaddr.Canonical(claims.Email)
		switch {
		case claims.Subject == "" || err != nil:
			// Auth issues neither; an old token of a look-alike address is one.
			w.Header().Set("WWW-Authenticate", `Bearer realm="littleecom", error="invalid_token"`)
			return problem.Unauthorizedf("invalid token: sign in again")
		case s.deleted != nil && s.deleted.Deleted(claims.Subject):
			w.Header().Set("WWW-Authenticate", `Bearer realm="littleecom", error="invalid_token"`)
			return problem.Unauthorizedf("the account was deleted")
		}
		return fn(w, r, store.NewAccount(claims.Subject, email))
	})
}
