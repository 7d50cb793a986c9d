package loadgen

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/httpx"
	"littleecom.io/littleecom/services/internal/tokens"
)

// options are the command's flags.
type options struct {
	concurrency int
	requests    int
	maxDuration time.Duration
	items       int
	amqpURL     string
	rabbitAPI   string
	logLevel    string
	cpuProfile  string
	routes      string
	gomaxprocs  int
}

// Main runs the load generator (or, re-executed, one of its children) with args.
func Main(ctx context.Context, args []string) error {
	if handled, err := runChild(ctx, args); handled {
		return err
	}
	var o options
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.IntVar(&o.concurrency, "c", 32, "concurrent clients")
	fs.IntVar(&o.requests, "n", 5000, "requests per route (each route also stops after -max-duration)")
	fs.DurationVar(&o.maxDuration, "max-duration", 30*time.Second, "time bound per route")
	fs.IntVar(&o.items, "items", 100, "items in the shop while GET /items is measured")
	fs.StringVar(&o.amqpURL, "amqp", "amqp://guest:guest@127.0.0.1:5672/", "local RabbitMQ; a fresh vhost is created on it")
	fs.StringVar(&o.rabbitAPI, "rabbitmq-api", "http://guest:guest@127.0.0.1:15672", "its management API, to create the vhost")
	fs.StringVar(&o.logLevel, "log-level", "info", "the backend's LOG_LEVEL (its logs go to a file)")
	fs.StringVar(&o.routes, "routes", "items,item,post,buy", "routes to measure, in this order: "+
		"items (GET /items), item (GET /item/{id}), post (POST /item), buy (POST /buy/{id}; needs post)")
	fs.IntVar(&o.gomaxprocs, "service-gomaxprocs", 0, "GOMAXPROCS of the backend process (0: Go's default, the CPUs it may use)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write the backend's CPU profile to this file, and FerretDB's to <file>.ferretdb")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, u := range []string{o.amqpURL, o.rabbitAPI} {
		if err := loopbackOnly(u); err != nil {
			return err
		}
	}
	return run(ctx, o)
}

func run(ctx context.Context, o options) error {
	dir, err := os.MkdirTemp("", "loadgen-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	logs, err := os.Create(filepath.Join(dir, "children.log"))
	if err != nil {
		return err
	}
	defer func() { _ = logs.Close() }()

	dbAddr, err := freeAddr()
	if err != nil {
		return err
	}
	dbArgs := []string{modeFerretDB, dbAddr, dir}
	if o.cpuProfile != "" {
		dbArgs = append(dbArgs, o.cpuProfile+".ferretdb")
	}
	db, err := startChild("ferretdb", dbArgs, nil, logs)
	if err != nil {
		return err
	}
	defer db.stop()
	if err := waitTCP(ctx, dbAddr, 20*time.Second); err != nil {
		return err
	}

	vhostURL, dropVhost, err := createVhost(ctx, o.amqpURL, o.rabbitAPI)
	if err != nil {
		return err
	}
	defer dropVhost()

	signer := tokens.NewSigner(tokens.GenerateKey(), contract.DefaultIssuer, contract.DefaultAudience, time.Hour)
	jwksURL, stopJWKS, err := serveJWKS(signer)
	if err != nil {
		return err
	}
	defer stopJWKS()

	httpAddr, err := freeAddr()
	if err != nil {
		return err
	}
	mgmtAddr, err := freeAddr()
	if err != nil {
		return err
	}
	childArgs := []string{modeBackend}
	if o.cpuProfile != "" {
		childArgs = append(childArgs, o.cpuProfile)
	}
	env := []string{
		contract.EnvHTTPAddr + "=" + httpAddr,
		contract.EnvManagementAddr + "=" + mgmtAddr,
		contract.EnvMongoURI + "=mongodb://" + dbAddr + "/?directConnection=true",
		contract.EnvAMQPURL + "=" + vhostURL,
		contract.EnvAuthJWKSURL + "=" + jwksURL,
		contract.EnvLogLevel + "=" + o.logLevel,
	}
	if o.gomaxprocs > 0 {
		env = append(env, "GOMAXPROCS="+strconv.Itoa(o.gomaxprocs))
	}
	svc, err := startChild("backend", childArgs, env, logs)
	if err != nil {
		return err
	}
	defer svc.stop()
	base := "http://" + httpAddr
	if err := waitHTTP(ctx, "http://"+mgmtAddr+contract.PathReadyz, 30*time.Second); err != nil {
		return fmt.Errorf("%w (logs: %s)", err, logs.Name())
	}

	d := &driver{base: base, management: "http://" + mgmtAddr, client: newClient(o.concurrency), concurrency: o.concurrency,
		maxDuration: o.maxDuration, servicePID: svc.pid(), dbPID: db.pid()}
	return drive(ctx, d, signer, o)
}

// drive seeds the shop, then measures each route in turn and prints the table.
func drive(ctx context.Context, d *driver, signer *tokens.Signer, o options) error {
	sign := func(email string) string {
		tok, _, err := signer.Sign(email, email)
		if err != nil {
			panic(err) // a fresh Ed25519 key cannot fail to sign
		}
		return tok
	}
	seller := sign("seller@loadgen.test")
	buyers := make([]string, o.concurrency)
	for i := range buyers {
		buyers[i] = sign(fmt.Sprintf("buyer%d@loadgen.test", i))
	}
	itemBody := []byte(`{"name":"load test lamp","price":12.5}`)

	var (
		mu  sync.Mutex
		ids []string
	)
	keepID := func(b []byte) { mu.Lock(); ids = append(ids, string(b)); mu.Unlock() }
	seed := phase{name: "seed", n: o.items, events: true, next: func(int) call {
		return call{method: http.MethodPost, path: "/item", token: seller, body: itemBody, want: 201, keep: keepID}
	}}
	if r, err := d.run(ctx, seed); err != nil || r.errors > 0 {
		return errors.Join(err, fmt.Errorf("seeding %d items: %d errors, first: %s", o.items, r.errors, r.firstErr))
	}
	seeded := append([]string(nil), ids...)
	ids = ids[:0]

	all := map[string]phase{
		"warm-up": {name: "warm-up (not a route)", n: min(o.requests, 2000), next: func(i int) call {
			return call{method: http.MethodGet, path: "/item/" + seeded[i%len(seeded)], want: 200}
		}},
		"items": {name: fmt.Sprintf("GET /items (%d)", o.items), n: o.requests, next: func(int) call {
			return call{method: http.MethodGet, path: "/items", want: 200}
		}},
		"item": {name: "GET /item/{id}", n: o.requests, next: func(i int) call {
			return call{method: http.MethodGet, path: "/item/" + seeded[i%len(seeded)], want: 200}
		}},
		"post": {name: "POST /item", n: o.requests, events: true, next: func(int) call {
			return call{method: http.MethodPost, path: "/item", token: seller, body: itemBody, want: 201, keep: keepID}
		}},
		// Each buy takes a distinct item that POST /item just created, so every one must win.
		"buy": {name: "POST /buy/{id}", n: o.requests, events: true, limit: func() int {
			mu.Lock()
			defer mu.Unlock()
			return len(ids) // one buy per item POST /item created
		}, next: func(i int) call {
			mu.Lock()
			defer mu.Unlock()
			return call{method: http.MethodPost, path: "/buy/" + ids[i], token: buyers[i%len(buyers)], want: 200}
		}},
	}
	phases := []phase{all["warm-up"]}
	for name := range strings.SplitSeq(o.routes, ",") {
		p, ok := all[strings.TrimSpace(name)]
		if !ok {
			return fmt.Errorf("unknown route %q in -routes", name)
		}
		phases = append(phases, p)
	}
	fmt.Printf("loadgen: backend pid %d, ferretdb pid %d, %d CPUs (%s), %s\n",
		d.servicePID, d.dbPID, runtime.NumCPU(), cpuModel(), runtime.Version())
	if err := printHeader(os.Stdout, o.concurrency); err != nil {
		return err
	}
	for _, p := range phases {
		r, err := d.run(ctx, p)
		if err != nil {
			return err
		}
		if err := printResult(os.Stdout, r); err != nil {
			return err
		}
	}
	return nil
}

// serveJWKS publishes the signer's key set on loopback, as auth would.
func serveJWKS(signer *tokens.Signer) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, signer.JWKS())
	})}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String() + contract.PathJWKS, func() { _ = srv.Close() }, nil
}

// loopbackOnly refuses URLs that leave this machine.
func loopbackOnly(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q: %w", raw, err)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("%s is not on loopback: loadgen only talks to this machine", u.Redacted())
	}
	return nil
}

// cpuModel is the "model name" line of /proc/cpuinfo.
func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for l := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
