package loadgen

import (
	"context"
	"flag"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/internal/loopback"
	"littleecom.io/littleecom/services/internal/httpx"
	"littleecom.io/littleecom/services/internal/tokens"
)

// options are the command's flags.
type options struct {
	concurrency int
	rate        float64
	requests    int
	maxDuration time.Duration
	items       int
	amqpURL     string
	rabbitAPI   string
	logLevel    string
	cpuProfile  string
	routes      string
	gomaxprocs  int
	idIndex     bool
	original    string
	yardstick   bool
	keep        bool
}

// Main runs the load generator (or, re-executed, one of its children) with args.
func Main(ctx context.Context, args []string) error {
	if handled, err := runChild(ctx, args); handled {
		return err
	}
	var o options
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.IntVar(&o.concurrency, "c", 32, "concurrent clients")
	fs.Float64Var(&o.rate, "rate", 0, "requests per second, sent as a steady stream by the -c clients, latency counted from "+
		"each request's due time (0: each client sends its next request once the last is answered)")
	fs.IntVar(&o.requests, "n", 5000, "requests per route (each route also stops after -max-duration)")
	fs.DurationVar(&o.maxDuration, "max-duration", 30*time.Second, "time bound per route")
	fs.IntVar(&o.items, "items", 100, "items in the shop while GET /items is measured")
	fs.StringVar(&o.amqpURL, "amqp", "amqp://guest:guest@127.0.0.1:5672/", "local RabbitMQ; a fresh vhost is created on it")
	fs.StringVar(&o.rabbitAPI, "rabbitmq-api", "http://guest:guest@127.0.0.1:15672", "its management API, to create the vhost")
	fs.StringVar(&o.logLevel, "log-level", "info", "the backend's LOG_LEVEL (its logs go to a file)")
	fs.StringVar(&o.routes, "routes", "items,item,post,buy", "routes to measure, in this order: "+
		"items (GET /items), item (GET /item/{id}), post (POST /item), buy (POST /buy/{id}; needs post)")
	fs.IntVar(&o.gomaxprocs, "service-gomaxprocs", 0, "GOMAXPROCS of the backend process (0: Go's default, the CPUs it may use)")
	fs.BoolVar(&o.idIndex, "id-index", true,
		"give FerretDB's collections the _id lookup index (internal/ferret/idindex.go); false: FerretDB as it comes")
	fs.StringVar(&o.original, "original", "", "also measure the original little-ecom backend, this binary "+
		"(built by services/backend/loadgen/original/build.sh), on the same database, route by route")
	fs.BoolVar(&o.yardstick, "yardstick", true, "also issue each route's database commands straight with the driver (the database alone)")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory (the children's logs, the database files)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write the backend's CPU profile to this file, and FerretDB's to <file>.ferretdb")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.rate < 0 || math.IsNaN(o.rate) || math.IsInf(o.rate, 0) {
		return fmt.Errorf("-rate %v: want requests per second, a finite number, or 0 for a closed loop", o.rate)
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
	if o.keep {
		fmt.Printf("loadgen: work directory (children.log, the SQLite files) kept in %s\n", dir)
	} else {
		defer func() { _ = os.RemoveAll(dir) }()
	}
	logs, err := os.Create(filepath.Join(dir, "children.log"))
	if err != nil {
		return err
	}
	defer func() { _ = logs.Close() }()

	// FerretDB binds by address itself: it takes any free port and we read back which.
	dbArgs := []string{modeFerretDB, "127.0.0.1:0", dir, "off"}
	if o.idIndex {
		dbArgs[3] = "on"
	}
	if o.cpuProfile != "" {
		dbArgs = append(dbArgs, o.cpuProfile+".ferretdb")
	}
	db, err := startChild("ferretdb", dbArgs, nil, logs, nil)
	if err != nil {
		return err
	}
	defer db.stop()
	dbAddr, err := boundAddr(ctx, db, 20*time.Second)
	if err != nil {
		return err
	}

	vhostURL, dropVhost, err := createVhost(ctx, o.amqpURL, o.rabbitAPI)
	if err != nil {
		return err
	}
	defer dropVhost()

	signer := tokens.NewSigner(tokens.GenerateKey(), contract.DefaultIssuer, contract.DefaultAudience, time.Hour)
	valid := &validator{}
	authURL, stopAuth, err := serveAuth(signer, valid)
	if err != nil {
		return err
	}
	defer stopAuth()

	// The backend's ports are bound here and handed over, as the dev runner does.
	var ports loopback.Listeners
	defer func() { _ = ports.Close() }()
	httpAddr, err := ports.Open()
	if err != nil {
		return err
	}
	mgmtAddr, err := ports.Open()
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
		contract.EnvAuthJWKSURL + "=" + authURL + contract.PathJWKS,
		contract.EnvLogLevel + "=" + o.logLevel,
	}
	if o.gomaxprocs > 0 {
		env = append(env, "GOMAXPROCS="+strconv.Itoa(o.gomaxprocs))
	}
	svc, err := startChild("backend", childArgs, env, logs, &ports)
	if err != nil {
		return err
	}
	defer svc.stop()
	base := "http://" + httpAddr
	if err := waitHTTP(ctx, "http://"+mgmtAddr+contract.PathReadyz, 30*time.Second); err != nil {
		return fmt.Errorf("%w (logs: %s)", err, logs.Name())
	}

	ours := &driver{name: "ours", base: base, management: "http://" + mgmtAddr, client: metricsClient(),
		concurrency: o.concurrency, rate: o.rate, maxDuration: o.maxDuration, servicePID: svc.pid(), dbPID: db.pid()}
	targets := []*target{{d: ours}}

	if o.original != "" {
		// A vhost of its own: it declares the queues without ours' dead-letter arguments.
		origVhost, dropOrigVhost, err := createVhost(ctx, o.amqpURL, o.rabbitAPI)
		if err != nil {
			return err
		}
		defer dropOrigVhost()
		orig, addr, err := startOriginal(ctx, o.original, "mongodb://"+dbAddr+"/?directConnection=true", origVhost,
			authURL+"/auth/validate", logs)
		if err != nil {
			return fmt.Errorf("original backend: %w (logs: %s)", err, logs.Name())
		}
		defer orig.stop()
		targets = append(targets, &target{d: &driver{name: "original", base: "http://" + addr,
			concurrency: o.concurrency, rate: o.rate, maxDuration: o.maxDuration, servicePID: orig.pid(), dbPID: db.pid()}})
	}
	var y *yardstick
	if o.yardstick {
		if y, err = newYardstick(ctx, dbAddr, o.concurrency); err != nil {
			return err
		}
		defer y.close()
	}
	return drive(ctx, targets, y, db.pid(), signer, valid, o)
}

// serveAuth publishes the signer's key set on loopback, as auth would, and answers the
// original backend's /auth/validate for the tokens v knows. It returns its base URL.
func serveAuth(signer *tokens.Signer, v *validator) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+contract.PathJWKS, func(w http.ResponseWriter, _ *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, signer.JWKS())
	})
	mux.Handle("POST /auth/validate", v)
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: mux}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
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
