package backend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"littleecom.io/littleecom/services/backend/itemfeed"
	"littleecom.io/littleecom/services/backend/relay"
	"littleecom.io/littleecom/services/backend/store"
	"littleecom.io/littleecom/services/internal/accountdeletion"
	"littleecom.io/littleecom/services/internal/httpx"
	"littleecom.io/littleecom/services/internal/logging"
	"littleecom.io/littleecom/services/internal/metrics"
	"littleecom.io/littleecom/services/internal/mongox"
	"littleecom.io/littleecom/services/internal/tokens"
	"littleecom.io/littleecom/services/internal/tracing"
)

// App is a running backend: database client, event relay and HTTP API.
type App struct {
	cfg     Config
	log     *slog.Logger
	client  *mongo.Client
	service *Service

	stopRelay context.CancelFunc
	relayDone chan struct{}
	// background runs the deletion watcher and the owner migration's later rounds.
	background sync.WaitGroup
	closeOnce  sync.Once
}

// migrateEvery is how often the owner migration runs again after the start (see
// store.MigrateOwners): it finds what a previous version's replica wrote during a rollout.
const migrateEvery = 10 * time.Minute

// Start connects to MongoDB, creates the indexes and starts the event relay. RabbitMQ need
// not be up: the relay keeps trying, and events wait in their documents meanwhile.
func Start(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	client, err := mongox.Connect(ctx, cfg.Mongo)
	if err != nil {
		return nil, err
	}
	m := metrics.New("backend")
	ictx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var rl *relay.Relay
	var feed *itemfeed.Feed
	opts := []store.Option{
		store.WithItemChanges(itemChanges{&feed}),
		store.WithEventHook(func(e store.Event) { rl.Enqueue(e) }),
		store.WithAccountDeletions(accountdeletion.Collection(client)),
		store.WithItemCache(cfg.ItemCacheTTL, cfg.ItemCacheSize),
	}
	if isFerretDB(ictx, client) {
		log.Info("FerretDB detected: queueing database operations, no secondary indexes (it scans for every query but _id lookups)",
			"concurrent_writes", ferretDBWriters, "concurrent_reads", ferretDBReaders)
		opts = append(opts, store.WithWriteConcurrency(ferretDBWriters), store.WithReadConcurrency(ferretDBReaders),
			store.WithoutSecondaryIndexes())
	}
	st := store.New(client.Database(cfg.Mongo.Database), opts...)
	registerItemCacheMetrics(m, st)
	feed = itemfeed.New(cfg.AMQP.Conn, st, log.With("component", "item-feed"))
	if err := st.EnsureIndexes(ictx); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, err
	}
	// Before serving: permission checks compare account ids, which old documents lack.
	if m, err := st.MigrateOwners(ictx); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, err
	} else if m.Items+m.Orders > 0 {
		log.Info("migrated owners from e-mail addresses to owner keys", "items", m.Items, "orders", m.Orders)
	}
	clearLegacySold(ictx, st, log)
	deletions := newDeletionWatcher(st, log.With("component", "account-deletions"))
	deletions.poll(ictx)
	rcfg := cfg.AMQP
	rcfg.Tracing = cfg.Tracing
	rl = relay.New(st, rcfg, log.With("component", "event-relay"), relay.Hooks{
		Published: func(key string) { m.EventsPublished.WithLabelValues(key).Inc() },
		Failed:    func(key string) { m.EventsFailed.WithLabelValues(key).Inc() },
	})
	rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	// auth's key set is refreshed in the background until Close ends rctx.
	jwks, err := tokens.NewJWKSClient(rctx, cfg.JWKSURL, tokens.WithTracerProvider(cfg.Tracing))
	if err != nil {
		stop()
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, err
	}
	a := &App{cfg: cfg, log: log, client: client, stopRelay: stop, relayDone: make(chan struct{})}
	go func() {
		defer close(a.relayDone)
		_ = rl.Run(rctx)
	}()
	a.background.Go(func() { feed.Run(rctx) })
	a.background.Go(func() { deletions.run(rctx) })
	a.background.Go(func() { migrateLoop(rctx, st, log) })

	// The verifier caches tokens that verified until they expire: a client's later requests
	// skip the Ed25519 check.
	verifier := tokens.NewVerifier(jwks, cfg.Issuer, cfg.Audience)
	a.service = New(Deps{
		Store: st, Verifier: verifier, Metrics: m, Log: log, CORS: cfg.CORS,
		Ready: map[string]func(context.Context) error{"mongodb": mongox.Ping(client)},
		// Requests succeed while RabbitMQ is down (events wait in their documents), so a broker
		// outage must not take every backend replica out of its Service.
		ReadyOptional: map[string]func(context.Context) error{"rabbitmq": rl.Check},
		Deleted:       deletions,
		Tracing:       cfg.Tracing,
	})
	return a, nil
}

// itemChanges hands the store's item writes to the feed, which needs the store and so is
// made right after it, before anything writes (as the relay behind the event hook).
type itemChanges struct{ feed **itemfeed.Feed }

func (c itemChanges) ItemChanged(id bson.ObjectID) { (*c.feed).ItemChanged(id) }
func (c itemChanges) ItemsChanged()                { (*c.feed).ItemsChanged() }

// Handler is the HTTP API, for the public port.
func (a *App) Handler() http.Handler { return a.service.Handler() }

// ManagementHandler is health, readiness and metrics, for the management port.
func (a *App) ManagementHandler() http.Handler { return a.service.ManagementHandler() }

// Serve answers the API on public and the probes and metrics on management until ctx is
// done, then shuts down gracefully: in-flight requests finish (bounded by ShutdownTimeout),
// the relay finishes its batch, the database closes. Events not yet published stay in their
// documents for the next start or another replica.
func (a *App) Serve(ctx context.Context, public, management net.Listener) error {
	err := httpx.ServeAll(ctx, a.log, a.cfg.ShutdownTimeout,
		httpx.Listener{Server: httpx.NewServer(public.Addr().String(), a.Handler()), Ln: public},
		httpx.Listener{Server: httpx.NewServer(management.Addr().String(), a.ManagementHandler()), Ln: management})
	return errors.Join(err, a.Close(context.WithoutCancel(ctx)))
}

// Close stops the relay and disconnects from the database. It is idempotent.
func (a *App) Close(ctx context.Context) error {
	var err error
	a.closeOnce.Do(func() {
		a.stopRelay()
		<-a.relayDone
		a.background.Wait()
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if derr := a.client.Disconnect(dctx); derr != nil {
			err = fmt.Errorf("disconnect mongodb: %w", derr)
		}
	})
	return err
}

// migrateLoop runs the owner migration and clears legacy sold items every migrateEvery
// until ctx ends.
func migrateLoop(ctx context.Context, st *store.Store, log *slog.Logger) {
	t := time.NewTicker(migrateEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			mctx, cancel := context.WithTimeout(ctx, time.Minute)
			m, err := st.MigrateOwners(mctx)
			switch {
			case err != nil:
				log.Warn("owner migration failed; retried later", "err", err)
			case m.Items+m.Orders > 0:
				log.Info("migrated owners written by a previous version", "items", m.Items, "orders", m.Orders)
			}
			clearLegacySold(mctx, st, log)
			cancel()
		}
	}
}

// clearLegacySold deletes the items a previous version marked sold (store.ClearLegacySold).
// A failure costs listings a little and is retried with the next migration.
func clearLegacySold(ctx context.Context, st *store.Store, log *slog.Logger) {
	n, err := st.ClearLegacySold(ctx)
	switch {
	case err != nil:
		log.Warn("clearing items sold by a previous version failed; retried later", "err", err)
	case n > 0:
		log.Info("cleared items sold by a previous version", "items", n)
	}
}

// Run starts the backend on cfg.HTTPAddr and cfg.ManagementAddr and serves until ctx is done.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	log.Info("starting backend", "config", cfg)
	a, err := Start(ctx, cfg, log)
	if err != nil {
		return err
	}
	ls, err := httpx.ListenAll(&http.Server{Addr: cfg.HTTPAddr}, &http.Server{Addr: cfg.ManagementAddr})
	if err != nil {
		return errors.Join(err, a.Close(ctx))
	}
	return a.Serve(ctx, ls[0].Ln, ls[1].Ln)
}

// Main is the command's whole life: configuration, logger and tracing from the environment,
// then Run; the spans still batched are flushed at the end.
func Main(ctx context.Context) error {
	log := logging.New("backend")
	cfg, err := ConfigFromEnv()
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	tr, err := tracing.Setup(ctx, "backend", log)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	cfg.Tracing = tr.Provider
	err = Run(ctx, cfg, log)
	tr.Flush(ctx, log)
	if err != nil {
		log.Error("backend stopped", "err", err)
		return err
	}
	return nil
}
