// Command operator-bench measures the operator at scale on envtest: it runs the real
// manager binary against a real kube-apiserver, creates N LittleEcoms in N namespaces and
// reports the time until all are reconciled, the API writes per LittleEcom for the first
// creation and for a resync (a restarted manager reconciling everything again), and the
// manager's peak RSS. Writes are counted as watch events on every kind the operator writes:
// with no kubelet and no other controllers in envtest, the manager is the only writer.
//
//	go build -o bin/manager ./cmd/manager && go run ./hack/bench/operator -n 50
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/controllers"
	"littleecom.io/littleecom/internal/envtestbin"
	"littleecom.io/littleecom/internal/loopback"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "operator-bench:", err)
		os.Exit(1)
	}
}

func run() error {
	n := flag.Int("n", 50, "number of LittleEcoms, one per namespace")
	manager := flag.String("manager", "bin/manager", "manager binary")
	assets := flag.String("assets", envtestbin.Find(), "directory with kube-apiserver and etcd (default: KUBEBUILDER_ASSETS or bin/k8s)")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	scheme := controllers.NewScheme()
	env := &envtest.Environment{
		CRDDirectoryPaths: []string{filepath.Join("config", "crd", "bases")}, ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: *assets,
	}
	cfg, err := env.Start()
	if err != nil {
		return fmt.Errorf("starting envtest: %w", err)
	}
	defer func() { _ = env.Stop() }()
	user, err := env.AddUser(envtest.User{Name: "bench", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("adding user: %w", err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "operator-bench")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	kubeconfigPath := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfigPath, kubeconfig, 0o600); err != nil {
		return err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}

	counter := &writeCounter{byKind: map[string]*atomic.Int64{}}
	if err := counter.start(ctx, dyn); err != nil {
		return err
	}

	mgr, err := startManager(ctx, *manager, kubeconfigPath)
	if err != nil {
		return err
	}

	fmt.Printf("machine: %d cores, %s, %s\n", runtime.NumCPU(), cpuModel(), time.Now().Format("2006-01-02"))
	start := time.Now()
	for i := range *n {
		ns := fmt.Sprintf("bench-%d", i)
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			return err
		}
		if err := c.Create(ctx, &shopv1.LittleEcom{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns}}); err != nil {
			return err
		}
	}
	if err := waitReconciled(ctx, c, *n); err != nil {
		return err
	}
	elapsed := time.Since(start)
	// Let trailing reconciles (caused by the operator's own writes) finish.
	if err := mgr.waitIdle(ctx, 3*time.Second); err != nil {
		return err
	}
	created := counter.snapshot()
	fmt.Printf("create %d LittleEcoms: all reconciled after %s\n", *n, elapsed.Round(time.Millisecond))
	fmt.Printf("  writes per LittleEcom: %.1f (%s)\n", float64(created.total)/float64(*n), created)

	// A restarted manager lists everything and reconciles every shop again: the resync.
	rss1 := mgr.peakRSS()
	if err := mgr.stop(); err != nil {
		return err
	}
	before := counter.snapshot()
	mgr, err = startManager(ctx, *manager, kubeconfigPath)
	if err != nil {
		return err
	}
	if err := mgr.waitReconciles(ctx, float64(*n)); err != nil {
		return err
	}
	if err := mgr.waitIdle(ctx, 3*time.Second); err != nil {
		return err
	}
	resync := counter.snapshot().minus(before)
	fmt.Printf("resync of %d LittleEcoms (manager restart): writes per LittleEcom: %.1f (%s)\n",
		*n, float64(resync.total)/float64(*n), resync)
	rss2 := mgr.peakRSS()
	fmt.Printf("manager peak RSS: %d MiB while creating, %d MiB during the resync\n", rss1>>20, rss2>>20)
	return mgr.stop()
}

// waitReconciled waits until every LittleEcom has a status for its current generation.
func waitReconciled(ctx context.Context, c client.Client, n int) error {
	for {
		list := &shopv1.LittleEcomList{}
		if err := c.List(ctx, list); err != nil {
			return err
		}
		done := 0
		for _, le := range list.Items {
			if le.Status.ObservedGeneration == le.Generation && le.Status.ReadyComponents != "" {
				done++
			}
		}
		if done == n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("only %d of %d reconciled: %w", done, n, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// writeCounter counts watch events (creates, updates, deletes) in the bench namespaces.
type writeCounter struct {
	mu     sync.Mutex
	byKind map[string]*atomic.Int64
}

type writeSnapshot struct {
	total  int64
	byKind map[string]int64
}

func (s writeSnapshot) String() string {
	kinds := []string{"littleecoms", "statefulsets", "deployments", "services", "secrets", "configmaps", "serviceaccounts",
		"ingresses", "networkpolicies", "poddisruptionbudgets"}
	parts := make([]string, 0, len(kinds))
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%s %d", k, s.byKind[k]))
	}
	return strings.Join(parts, ", ")
}

func (s writeSnapshot) minus(o writeSnapshot) writeSnapshot {
	out := writeSnapshot{total: s.total - o.total, byKind: map[string]int64{}}
	for k, v := range s.byKind {
		out.byKind[k] = v - o.byKind[k]
	}
	return out
}

func (w *writeCounter) snapshot() writeSnapshot {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := writeSnapshot{byKind: map[string]int64{}}
	for k, v := range w.byKind {
		s.byKind[k] = v.Load()
		s.total += v.Load()
	}
	return s
}

func (w *writeCounter) start(ctx context.Context, dyn dynamic.Interface) error {
	resources := []schema.GroupVersionResource{
		shopv1.GroupVersion.WithResource("littleecoms"),
		{Group: "apps", Version: "v1", Resource: "statefulsets"},
		{Group: "apps", Version: "v1", Resource: "deployments"},
		{Version: "v1", Resource: "services"},
		{Version: "v1", Resource: "secrets"},
		{Version: "v1", Resource: "configmaps"},
		{Version: "v1", Resource: "serviceaccounts"},
		{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"},
		{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"},
		{Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"},
	}
	for _, gvr := range resources {
		count := &atomic.Int64{}
		w.byKind[gvr.Resource] = count
		wi, err := dyn.Resource(gvr).Watch(ctx, metav1.ListOptions{})
		if err != nil {
			return fmt.Errorf("watching %s: %w", gvr.Resource, err)
		}
		go func() {
			for ev := range wi.ResultChan() {
				if ev.Type == watch.Bookmark || ev.Type == watch.Error {
					continue
				}
				obj, ok := ev.Object.(metav1.Object)
				if !ok || !strings.HasPrefix(obj.GetNamespace(), "bench-") {
					continue
				}
				// The bench creates each LittleEcom itself; that write is not the operator's.
				if gvr.Resource == "littleecoms" && ev.Type == watch.Added {
					continue
				}
				count.Add(1)
			}
		}()
	}
	return nil
}

// managerProcess is the real manager binary, its metrics scraped over loopback.
type managerProcess struct {
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd.Wait returned, with waitErr
	waitErr error
	// metrics is the URL of its metrics, known (or metricsErr) once metricsKnown is closed.
	metrics      string
	metricsErr   error
	metricsKnown chan struct{}
	peak         atomic.Int64
	done         chan struct{}
}

// startManager runs the manager with its metrics and probe servers on loopback port 0 (it
// binds them through controller-runtime, which cannot be handed a socket); the metrics port
// is learnt from the kernel once the manager listens.
func startManager(ctx context.Context, binary, kubeconfig string) (*managerProcess, error) {
	cmd := exec.CommandContext(ctx, binary, "--kubeconfig", kubeconfig,
		"--metrics-bind-address", "127.0.0.1:0", "--metrics-secure=false",
		"--health-probe-bind-address", "127.0.0.1:0")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s (build it with make build): %w", binary, err)
	}
	m := &managerProcess{cmd: cmd, exited: make(chan struct{}), metricsKnown: make(chan struct{}), done: make(chan struct{})}
	go func() { m.waitErr = cmd.Wait(); close(m.exited) }()
	// In the background: the bench's clock starts as soon as the manager does, as before.
	go func() { m.metrics, m.metricsErr = metricsURL(ctx, cmd.Process.Pid, m.exited); close(m.metricsKnown) }()
	go func() {
		for {
			select {
			case <-m.done:
				return
			case <-time.After(50 * time.Millisecond):
				m.samplePeak()
			}
		}
	}()
	return m, nil
}

// samplePeak raises peak to the process's current high-water mark.
func (m *managerProcess) samplePeak() {
	if rss := vmHWM(m.cmd.Process.Pid); rss > m.peak.Load() {
		m.peak.Store(rss)
	}
}

func (m *managerProcess) peakRSS() int64 {
	m.samplePeak()
	return m.peak.Load()
}

func (m *managerProcess) stop() error {
	close(m.done)
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	<-m.exited
	if _, ok := errors.AsType[*exec.ExitError](m.waitErr); ok {
		return nil
	}
	return m.waitErr
}

// metric sums the samples of a metric for the littleecom controller.
func (m *managerProcess) metric(name string) (float64, error) {
	<-m.metricsKnown
	if m.metricsErr != nil {
		return 0, m.metricsErr
	}
	resp, err := http.Get(m.metrics)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) || !strings.Contains(line, `controller="littleecom"`) {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err == nil {
			sum += v
		}
	}
	return sum, sc.Err()
}

// waitReconciles waits until the manager has finished at least n reconciles.
func (m *managerProcess) waitReconciles(ctx context.Context, n float64) error {
	for {
		if v, err := m.metric("controller_runtime_reconcile_total"); err == nil && v >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitIdle waits until no reconcile has run for quiet.
func (m *managerProcess) waitIdle(ctx context.Context, quiet time.Duration) error {
	last, since := -1.0, time.Now()
	for {
		v, err := m.metric("controller_runtime_reconcile_total")
		if err == nil && v != last {
			last, since = v, time.Now()
		}
		if time.Since(since) >= quiet {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// metricsURL waits until the manager process pid listens on its two ports and returns the
// metrics one: the port that answers GET /metrics (the probe server's answer is 404).
func metricsURL(ctx context.Context, pid int, exited <-chan struct{}) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	addrs, err := loopback.WaitListening(ctx, pid, 2, exited)
	if err != nil {
		return "", fmt.Errorf("manager: %w", err)
	}
	for _, addr := range addrs {
		url := "http://" + addr + "/metrics"
		resp, err := http.Get(url)
		if err != nil {
			continue
		}
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return url, nil
		}
	}
	return "", fmt.Errorf("manager: none of %v serves /metrics", addrs)
}

// vmHWM is a process's peak resident set size in bytes, from /proc.
func vmHWM(pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func cpuModel() string {
	raw, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.SplitSeq(string(raw), "\n") {
		if strings.HasPrefix(line, "model name") {
			return strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
		}
	}
	return "unknown CPU"
}
