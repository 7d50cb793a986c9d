package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"littleecom.io/littleecom/internal/ferret"
	"littleecom.io/littleecom/internal/mailsink"
	"littleecom.io/littleecom/internal/rabbitadmin"
)

// Stack is the whole shop on this machine: control plane, operator, backing services, the
// three services as local processes and the gateway. Start brings it up; Stop takes it down.
type Stack struct {
	cfg   Config
	log   *slog.Logger
	outMu sync.Mutex
	logs  map[string]*prefixWriter

	lock     *lockFile
	listener net.Listener
	server   *http.Server

	env        *envtest.Environment // its Config reaches the local API server
	scheme     *runtime.Scheme      // the operator's (controllers.NewScheme), for the client and the manager
	client     client.Client        // uncached: reads see the API server
	kubeconfig string
	instance   string
	// ingressReader reads through the operator's informer cache: the gateway sees every
	// change of the Ingress as soon as the watch delivers it.
	ingressReader client.Reader

	life     context.Context // ends at Stop: the operator, the kubelet, the watchers
	stopLife context.CancelFunc
	mgrDone  chan struct{}

	ferret *ferret.Server
	sink   *mailsink.Sink
	rs     *ferretReplicaSet
	broker *broker

	binDir string // the service binaries
	// endpoints are where the in-cluster endpoints live on this machine, known once auth's
	// address is chosen; HTTPAddr is set per service.
	endpoints localEndpoints

	procsMu sync.Mutex
	procs   map[string]*process

	failed   chan error
	serving  atomic.Bool // the gateway serves
	up       atomic.Bool // Start returned: deaths go to Failed
	stopping atomic.Bool
	stopOnce sync.Once
	stopErr  error
	started  time.Duration
}

// Start brings the stack up and returns when the three services answer /readyz through the
// gateway's routes. On failure it stops whatever it started and says which part failed.
func Start(ctx context.Context, cfg Config) (_ *Stack, err error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	s := &Stack{cfg: cfg, logs: map[string]*prefixWriter{}, procs: map[string]*process{}, failed: make(chan error, 1)}
	s.log = slog.New(slog.NewTextHandler(s.writer("dev"), &slog.HandlerOptions{ReplaceAttr: dropTime}))
	s.life, s.stopLife = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			_ = s.Stop()
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	t0 := time.Now()

	if s.lock, err = lockDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	if s.listener, err = listen("gateway", cfg.Addr); err != nil {
		return nil, err
	}
	// The lock is ours, so no live runner owns what still runs on this data directory.
	if reaped := reapLeftovers(cfg.DataDir); len(reaped) > 0 {
		s.log.Warn("stopped what a killed make dev left running on this data directory", "processes", strings.Join(reaped, ", "))
	}
	s.broker = &broker{amqpAddr: cfg.AMQPAddr, vhost: cfg.VHost,
		admin: rabbitadmin.Client{URL: cfg.RabbitMQAPI, Username: cfg.RabbitMQUser, Password: cfg.RabbitMQPassword}}
	if err := s.broker.check(ctx); err != nil {
		return nil, err
	}

	s.binDir = filepath.Join(cfg.DataDir, "bin")
	built := make(chan error, 1)
	go func() { built <- s.buildServices(ctx) }()

	if s.ferret, err = ferret.Start("127.0.0.1:0", filepath.Join(cfg.DataDir, "ferretdb"), s.writer("ferretdb")); err != nil {
		return nil, err
	}
	s.log.Info("FerretDB (SQLite) stands in for MongoDB", "addr", s.ferret.Addr(), "data", filepath.Join(cfg.DataDir, "ferretdb"))
	if s.sink, err = mailsink.Start("127.0.0.1:0"); err != nil {
		return nil, err
	}
	s.log.Info("SMTP sink", "addr", s.sink.Addr())

	if err := s.startControlPlane(); err != nil {
		return nil, err
	}
	if err := s.startOperator(); err != nil {
		return nil, err
	}
	if err := s.applySample(ctx); err != nil {
		return nil, err
	}
	edge, err := netip.ParseAddrPort(s.listener.Addr().String())
	if err != nil {
		return nil, err
	}
	go (&kubelet{c: s.client, namespace: cfg.Namespace, probes: s.probes(), log: s.log.With("as", "kubelet"),
		ingress: s.names().Ingress(), edge: edge, edgeUp: s.serving.Load}).run(s.life)
	if err := s.waitForChildren(ctx); err != nil {
		return nil, err
	}
	if err := s.importDefinitions(ctx); err != nil {
		return nil, err
	}
	select {
	case err := <-built:
		if err != nil {
			return nil, err
		}
	case <-ctx.Done():
		return nil, fmt.Errorf("building the services: %w", ctx.Err())
	}
	if err := s.startServices(ctx); err != nil {
		return nil, err
	}
	s.startGateway()
	s.waitForEdgeAndStatus(ctx)
	s.up.Store(true)
	go s.supervise()
	go s.watchRollouts(s.life)
	s.started = time.Since(t0)
	s.log.Info("stack up", "took", s.started.Round(100*time.Millisecond))
	return s, nil
}

// writer returns component's prefixed log writer.
func (s *Stack) writer(component string) *prefixWriter {
	return s.writerTo(component, s.cfg.Log)
}

func (s *Stack) writerTo(component string, out io.Writer) *prefixWriter {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	if w, ok := s.logs[component]; ok {
		return w
	}
	w := newPrefixWriter(component, out, &s.outMu)
	s.logs[component] = w
	return w
}

func dropTime(_ []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

// buildServices builds cmd/<component> of every service into binDir with one go build.
func (s *Stack) buildServices(ctx context.Context) error {
	t0 := time.Now()
	args := append(make([]string, 0, 3+len(serviceComponents)), "build", "-o", s.binDir+string(filepath.Separator))
	for _, c := range serviceComponents {
		args = append(args, "./cmd/"+c)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = s.cfg.Root
	w := s.writer("build")
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if err := cmd.Run(); err != nil {
		return &ComponentError{Component: "build", Reason: "go build ./cmd/{" + strings.Join(serviceComponents, ",") + "}: " + err.Error(), LastLines: w.Tail()}
	}
	s.log.Info("built the services", "dir", s.binDir, "took", time.Since(t0).Round(100*time.Millisecond))
	return nil
}

// supervise reports on Failed when FerretDB or the operator stops; the services' processes
// are watched from launch.
func (s *Stack) supervise() {
	go func() {
		<-s.ferret.Done()
		if !s.stopping.Load() {
			s.fail(&ComponentError{Component: "ferretdb", Reason: "stopped", LastLines: s.writer("ferretdb").Tail()})
		}
	}()
	go func() {
		<-s.mgrDone
		if !s.stopping.Load() {
			s.fail(&ComponentError{Component: "operator", Reason: "the manager stopped", LastLines: s.writer("operator").Tail()})
		}
	}()
}

func (s *Stack) fail(err error) {
	select {
	case s.failed <- err:
	default:
	}
}

// Failed delivers the first component that died after Start returned.
func (s *Stack) Failed() <-chan error { return s.failed }

// Stop takes everything down: the gateway and the services (SIGTERM to their process
// groups, SIGKILL after 5 s), the operator, the control plane, FerretDB and the sink; an
// Ephemeral stack also deletes its vhost and users. It is safe to call more than once.
func (s *Stack) Stop() error {
	s.stopOnce.Do(func() {
		s.stopping.Store(true)
		t0 := time.Now()
		var errs []error
		if s.server != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = s.server.Shutdown(ctx)
			cancel()
			_ = s.server.Close()
		} else if s.listener != nil {
			_ = s.listener.Close()
		}
		s.procsMu.Lock()
		var wg sync.WaitGroup
		for _, p := range s.procs {
			wg.Go(func() { p.stop(5 * time.Second) })
		}
		s.procsMu.Unlock()
		wg.Wait()
		s.procsMu.Lock()
		for _, p := range s.procs {
			p.ports.close() // shared by the processes a service ran as: released once all stopped
		}
		s.procsMu.Unlock()
		if s.stopLife != nil {
			s.stopLife()
		}
		if s.mgrDone != nil {
			select {
			case <-s.mgrDone:
			case <-time.After(3 * time.Second):
				errs = append(errs, errors.New("operator: did not stop within 3s"))
			}
		}
		if s.env != nil {
			if err := s.env.Stop(); err != nil {
				errs = append(errs, fmt.Errorf("control plane: %w", err))
			}
		}
		if s.rs != nil {
			s.rs.close()
		}
		if s.ferret != nil {
			s.ferret.Stop()
		}
		if s.sink != nil {
			_ = s.sink.Close()
		}
		if s.cfg.Ephemeral && s.broker != nil && len(s.broker.users) > 0 {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := s.broker.cleanup(ctx); err != nil {
				errs = append(errs, fmt.Errorf("rabbitmq cleanup: %w", err))
			}
			cancel()
		}
		s.lock.release()
		s.stopErr = errors.Join(errs...)
		if s.log != nil {
			s.log.Info("stopped", "took", time.Since(t0).Round(10*time.Millisecond))
		}
	})
	return s.stopErr
}

// URL is the gateway's base URL.
func (s *Stack) URL() string { return "http://" + s.listener.Addr().String() }

// Client is an uncached client of the local control plane.
func (s *Stack) Client() client.Client { return s.client }

// Namespace and Instance name the LittleEcom object the stack runs.
func (s *Stack) Namespace() string { return s.cfg.Namespace }

// Instance is the LittleEcom object's name.
func (s *Stack) Instance() string { return s.instance }

// StartupTime is how long Start took.
func (s *Stack) StartupTime() time.Duration { return s.started }

// PIDs are the services' process ids (each also its process group id), by component.
func (s *Stack) PIDs() map[string]int {
	s.procsMu.Lock()
	defer s.procsMu.Unlock()
	out := map[string]int{}
	for name, p := range s.procs {
		out[name] = p.PID()
	}
	return out
}

// Addrs are the host:port of everything the stack listens on, by component.
func (s *Stack) Addrs() map[string]string {
	out := map[string]string{"gateway": s.listener.Addr().String(), "ferretdb": s.ferret.Addr(), "smtp": s.sink.Addr()}
	if u, err := url.Parse(s.env.Config.Host); err == nil {
		out["kube-apiserver"] = u.Host
	}
	if e := s.env.ControlPlane.Etcd; e != nil && e.URL != nil {
		out["etcd"] = e.URL.Host
	}
	s.procsMu.Lock()
	defer s.procsMu.Unlock()
	for name, p := range s.procs {
		out[name] = p.addr
		out[name+"-management"] = p.mgmtAddr
	}
	return out
}

// ReadyMessage is what make dev prints once the stack is up: the ready line first.
func (s *Stack) ReadyMessage() string {
	u := s.URL()
	return fmt.Sprintf(`littleecom ready: %[1]s
  kubeconfig:  %[2]s   (kubectl --kubeconfig %[2]s get le -n %[3]s)
  e-mails:     curl -s %[1]s/dev/mail
  try:
    curl -i -X POST %[1]s/auth/register -d '{"email":"ann@example.com","password":"secret1"}'
    TOKEN=$(curl -s -X POST %[1]s/auth/signin -d '{"email":"ann@example.com","password":"secret1"}')
    curl -i -X POST %[1]s/item -H "Authorization: Bearer $TOKEN" -d '{"name":"lamp","price":12.5}'
    curl -s %[1]s/items
  data: %[4]s (delete it for a fresh shop); Ctrl-C stops everything
`, u, s.kubeconfig, s.cfg.Namespace, s.cfg.DataDir)
}

// ConfigFromEnv returns EnvAddr, EnvData and EnvOTLPEndpoint as a Config for make dev.
func ConfigFromEnv() Config {
	return Config{Addr: os.Getenv(EnvAddr), DataDir: os.Getenv(EnvData), OTLPEndpoint: os.Getenv(EnvOTLPEndpoint)}
}

// Mail is one e-mail the sink received, as GET /dev/mail shows it.
type Mail = mailsink.Message
