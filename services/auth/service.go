package auth

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"golang.org/x/crypto/bcrypt"

	"littleecom.io/littleecom/services/auth/store"
	"littleecom.io/littleecom/services/internal/health"
	"littleecom.io/littleecom/services/internal/httpx"
	"littleecom.io/littleecom/services/internal/metrics"
	"littleecom.io/littleecom/services/internal/mongox"
	"littleecom.io/littleecom/services/internal/tokens"
)

// Service is the auth HTTP service.
type Service struct {
	cfg      Config
	log      *slog.Logger
	store    *store.Store
	signer   *tokens.Signer
	verifier *tokens.Verifier
	metrics  *metrics.Metrics
	// readiness is /readyz on the management port, built once.
	readiness http.Handler

	ttlIndexes bool

	limits limits
	// signingKey signs access tokens and verification links.
	signingKey ed25519.PrivateKey
	// verify is nil unless e-mail verification is on (verify.go); background runs its
	// mails, which Close waits for.
	verify     *verification
	background sync.WaitGroup
	// dummyHash is compared against when the e-mail is unknown, so that sign-in takes as
	// long for a missing account as for a wrong password (no account enumeration by timing).
	dummyHash []byte

	now func() time.Time
}

// New prepares the service on db (creating its indexes) with the signing key from cfg, or an
// ephemeral one.
func New(ctx context.Context, cfg Config, client *mongo.Client, log *slog.Logger) (*Service, error) {
	key, err := signingKey(cfg, log)
	if err != nil {
		return nil, err
	}
	signer := tokens.NewSigner(key, cfg.Issuer, cfg.Audience, cfg.AccessTokenTTL)
	st := store.New(client.Database(cfg.Mongo.Database))
	ttl, err := st.EnsureIndexes(ctx)
	if err != nil {
		return nil, err
	}
	if !ttl {
		log.Warn("the database has no TTL indexes (FerretDB): expired refresh tokens are purged by the service")
	}
	cost := cfg.BcryptCost
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte("not a real password"), cost)
	if err != nil {
		return nil, fmt.Errorf("bcrypt cost %d: %w", cost, err)
	}
	cfg.BcryptCost = cost
	m := metrics.New("auth")
	s := &Service{
		cfg:        cfg,
		log:        log,
		store:      st,
		signer:     signer,
		verifier:   tokens.NewVerifier(signer.Keys(), cfg.Issuer, cfg.Audience),
		metrics:    m,
		readiness:  health.Handler(log, map[string]func(context.Context) error{"mongodb": mongox.Ping(client)}),
		limits:     newLimits(st, cfg),
		signingKey: key,
		dummyHash:  dummy,
		ttlIndexes: ttl,
		now:        time.Now,
	}
	if cfg.EmailVerification {
		s.verify = newVerification(cfg, s)
	}
	return s, nil
}

// Close waits for the verification mails being handed over and closes the connection to
// RabbitMQ, if any. Main calls it after the HTTP servers stopped.
func (s *Service) Close() {
	s.background.Wait()
	if s.verify != nil {
		s.verify.publisher.close()
	}
}

func signingKey(cfg Config, log *slog.Logger) (ed25519.PrivateKey, error) {
	if !cfg.SigningKeyPEM.IsSet() {
		log.Warn("no signing key configured: using an ephemeral key; " +
			"tokens will not survive a restart and replicas will not accept each other's (dev only)")
		return tokens.GenerateKey(), nil
	}
	key, err := tokens.ParsePrivateKeyPEM([]byte(cfg.SigningKeyPEM.Reveal()))
	if err != nil {
		return nil, fmt.Errorf("parse signing key: %w", err)
	}
	return key, nil
}

// PurgeLoop deletes expired refresh tokens every interval until ctx is done, when the
// database lacks TTL indexes; otherwise it returns at once. Main runs it in the background.
func (s *Service) PurgeLoop(ctx context.Context, interval time.Duration) {
	if s.ttlIndexes {
		return
	}
	mongox.Purger{Sets: s.store.Expiring(), Now: func() time.Time { return s.now() }}.Run(ctx, interval, s.log)
}

// Signer returns the token signer (for tests and tools that need the public key).
func (s *Service) Signer() *tokens.Signer { return s.signer }

// Handler is the service's public HTTP handler: the routes behind request ids, logging,
// panic recovery, CORS (when enabled) and metrics.
func (s *Service) Handler() http.Handler {
	return httpx.Stack(s.routes(), s.log, s.cfg.CORS, s.metrics.HTTPMiddleware(nil), nil)
}

// ManagementHandler serves the probes and metrics, for the management port only.
func (s *Service) ManagementHandler() http.Handler {
	return health.Management(s.readiness, s.metrics.Handler())
}
