package devstack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"littleecom.io/littleecom/internal/resource"
)

// serviceComponents are the shop's services in start order: backend verifies tokens with
// auth's keys, so auth comes first.
var serviceComponents = resource.ServiceComponents

// probes are the kubelet's health checks of every stand-in, by workload name.
func (s *Stack) probes() map[string]func(context.Context) bool {
	n := s.names()
	httpc := &http.Client{Timeout: 2 * time.Second}
	probes := map[string]func(context.Context) bool{
		n.MongoDB():  func(ctx context.Context) bool { return s.rs.ping(ctx) == nil },
		n.RabbitMQ(): func(ctx context.Context) bool { return s.broker.check(ctx) == nil },
	}
	for _, c := range serviceComponents {
		probes[n.Service(c)] = func(ctx context.Context) bool {
			s.procsMu.Lock()
			p := s.procs[c]
			s.procsMu.Unlock()
			if p == nil || p.died() {
				return false
			}
			ok, _ := probe(ctx, httpc, p.readyURL())
			return ok
		}
	}
	return probes
}

// startServices runs auth, then backend and notifier, each configured from its Deployment.
func (s *Stack) startServices(ctx context.Context) error {
	objs, err := s.namespaceObjects(ctx)
	if err != nil {
		return err
	}
	authPorts, err := openServicePorts()
	if err != nil {
		return err
	}
	s.endpoints = localEndpoints{
		MongoURI: s.ferret.URI(), AMQPAddr: s.cfg.AMQPAddr, VHost: s.cfg.VHost, UserPrefix: s.broker.prefix(),
		SMTPHost: s.sink.Host(), SMTPPort: s.sink.Port(), AuthAddr: authPorts.addr,
	}
	if err := s.startService(ctx, resource.ComponentAuth, authPorts, objs); err != nil {
		return err
	}
	rest := serviceComponents[1:]
	var wg sync.WaitGroup
	errs := make([]error, len(rest))
	for i, c := range rest {
		wg.Go(func() {
			ports, err := openServicePorts()
			if err == nil {
				err = s.startService(ctx, c, ports, objs)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (s *Stack) namespaceObjects(ctx context.Context) (objects, error) {
	objs := objects{configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{}}
	var cms corev1.ConfigMapList
	if err := s.client.List(ctx, &cms, client.InNamespace(s.cfg.Namespace)); err != nil {
		return objs, err
	}
	for i := range cms.Items {
		objs.configMaps[cms.Items[i].Name] = &cms.Items[i]
	}
	var secrets corev1.SecretList
	if err := s.client.List(ctx, &secrets, client.InNamespace(s.cfg.Namespace)); err != nil {
		return objs, err
	}
	for i := range secrets.Items {
		objs.secrets[secrets.Items[i].Name] = &secrets.Items[i]
	}
	return objs, nil
}

// startService reads the component's Deployment, maps its environment to this machine and
// runs the binary on ports until it answers /readyz. The ports belong to the process from
// then on (Stop closes them), or are closed here when no process was started.
func (s *Stack) startService(ctx context.Context, component string, ports *servicePorts, objs objects) error {
	env, report, err := s.serviceEnv(ctx, component, ports.addr, ports.mgmtAddr, objs)
	if err != nil {
		ports.close()
		return err
	}
	s.logEnv(component, report)
	p, err := s.launch(component, ports, env)
	if err != nil {
		ports.close()
		return err
	}
	t0 := time.Now()
	if err := p.waitReady(ctx); err != nil {
		return err
	}
	s.log.Info("ready", "service", component, "addr", ports.addr, "pid", p.PID(), "took", time.Since(t0).Round(10*time.Millisecond))
	return nil
}

// envReport says how a service's environment was made, for the log.
type envReport struct {
	deployment string
	variables  int // as the operator generated them
	mappings   []Mapping
	leftovers  []string // still pointing into the cluster
}

// serviceEnv is the component's environment as the operator generated it for its
// Deployment, mapped to this machine, and a report of every mapping and why.
func (s *Stack) serviceEnv(ctx context.Context, component, addr, mgmtAddr string, objs objects) (map[string]string, envReport, error) {
	var dep appsv1.Deployment
	key := client.ObjectKey{Namespace: s.cfg.Namespace, Name: s.names().Service(component)}
	if err := s.client.Get(ctx, key, &dep); err != nil {
		return nil, envReport{}, fmt.Errorf("%s: reading Deployment %s: %w", component, key, err)
	}
	env, err := resolveEnv(&dep, component, objs)
	if err != nil {
		return nil, envReport{}, fmt.Errorf("%s: %w", component, err)
	}
	ep := s.endpoints
	ep.HTTPAddr, ep.ManagementAddr = addr, mgmtAddr
	mapped, mappings := mapEnv(env, ep)
	return mapped, envReport{deployment: dep.Name, variables: len(env), mappings: mappings, leftovers: inClusterLeftovers(mapped)}, nil
}

// logEnv logs how the component's environment was made; secret values are masked.
func (s *Stack) logEnv(component string, r envReport) {
	log := s.log.With("service", component)
	log.Info("configured from Deployment "+r.deployment, "variables", r.variables, "mapped", len(r.mappings))
	for _, m := range r.mappings {
		from, to := m.From, m.To
		if secretNames[m.Name] {
			from, to = mask(from), mask(to)
		}
		log.Info("  mapped "+m.Name, "from", from, "to", to, "why", m.Why)
	}
	if len(r.leftovers) > 0 {
		log.Warn("variables still point into the cluster; the dev runner does not know them", "names", strings.Join(r.leftovers, ","))
	}
}

// launch starts the component's binary with env and registers it, unless the stack is
// stopping (Stop must see every process it has to stop).
func (s *Stack) launch(component string, ports *servicePorts, env map[string]string) (*process, error) {
	s.procsMu.Lock()
	defer s.procsMu.Unlock()
	if s.stopping.Load() {
		return nil, fmt.Errorf("%s: not started, the stack is stopping", component)
	}
	p, err := startProcess(component, filepath.Join(s.binDir, component), ports,
		environ(env, os.Getenv("PATH"), os.Getenv("HOME")), s.writer(component))
	if err != nil {
		return nil, err
	}
	p.env = env
	s.procs[component] = p
	go func() {
		<-p.done
		if s.up.Load() && !s.stopping.Load() && p.died() {
			s.fail(p.deathError())
		}
	}()
	return p, nil
}

func mask(v string) string {
	if v == "" || v == "(unset)" {
		return v
	}
	return "******"
}

// startGateway serves the Ingress's routes on the listener opened at Start.
func (s *Stack) startGateway() {
	upstream := map[string]string{}
	s.procsMu.Lock()
	for c, p := range s.procs {
		upstream[s.names().Service(c)] = p.addr
	}
	s.procsMu.Unlock()
	g := &gateway{
		ingress:  s.readIngress,
		upstream: func(svc string) (string, bool) { a, ok := upstream[svc]; return a, ok },
		mail:     s.sink.Handler(),
		log:      s.log.With("as", "gateway"),
	}
	s.server = &http.Server{Handler: g, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	go func() { _ = s.server.Serve(s.listener) }()
	s.serving.Store(true)
	s.log.Info("gateway", "url", s.URL(), "routes_from", "Ingress "+s.cfg.Namespace+"/"+s.names().Ingress())
}

// readIngress reads the Ingress through the operator's informer cache.
func (s *Stack) readIngress(ctx context.Context) (*networkingv1.Ingress, error) {
	var ing networkingv1.Ingress
	err := s.ingressReader.Get(ctx, client.ObjectKey{Namespace: s.cfg.Namespace, Name: s.names().Ingress()}, &ing)
	return &ing, err
}
