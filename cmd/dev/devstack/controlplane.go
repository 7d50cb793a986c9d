package devstack

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/controllers"
	"littleecom.io/littleecom/internal/resource"
)

// startControlPlane runs kube-apiserver and etcd (envtest) with etcd's data under the data
// directory, installs the CRDs and writes a kubeconfig.
func (s *Stack) startControlPlane() error {
	t0 := time.Now()
	// Their logs are kept for a failure report, not printed: kube-apiserver is chatty.
	quiet := func(name string) io.Writer { return s.writerTo(name, io.Discard) }
	s.env = &envtest.Environment{
		CRDDirectoryPaths:       []string{filepath.Join(s.cfg.Root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing:   true,
		BinaryAssetsDirectory:   s.cfg.Assets,
		ControlPlaneStopTimeout: 4 * time.Second,
	}
	s.env.ControlPlane.Etcd = &envtest.Etcd{DataDir: filepath.Join(s.cfg.DataDir, "etcd"), Out: quiet("etcd"), Err: quiet("etcd")}
	api := s.env.ControlPlane.GetAPIServer()
	api.Out, api.Err = quiet("apiserver"), quiet("apiserver")
	if err := os.MkdirAll(s.env.ControlPlane.Etcd.DataDir, 0o700); err != nil {
		return err
	}
	cfg, err := s.env.Start()
	if err != nil {
		s.env = nil
		return &ComponentError{Component: "control plane", Reason: fmt.Sprintf("kube-apiserver/etcd from %s: %v", s.cfg.Assets, err),
			LastLines: append(s.writer("apiserver").Tail(), s.writer("etcd").Tail()...)}
	}
	s.scheme = controllers.NewScheme()
	if s.client, err = client.New(cfg, client.Options{Scheme: s.scheme}); err != nil {
		return err
	}
	s.kubeconfig = filepath.Join(s.cfg.DataDir, "kubeconfig")
	if err := os.WriteFile(s.kubeconfig, s.env.KubeConfig, 0o600); err != nil {
		return fmt.Errorf("writing the kubeconfig: %w", err)
	}
	s.log.Info("control plane up (envtest: kube-apiserver + etcd), CRDs installed", "api", cfg.Host,
		"kubeconfig", s.kubeconfig, "took", time.Since(t0).Round(100*time.Millisecond))
	return nil
}

// startOperator runs the operator in-process with the FerretDB stand-in as its replica set.
func (s *Stack) startOperator() error {
	ctrl.SetLogger(zap.New(zap.WriteTo(s.writer("operator")), zap.ConsoleEncoder()))
	mgr, err := ctrl.NewManager(s.env.Config, ctrl.Options{
		Scheme:                 s.scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  controllers.CacheOptions(),
		// A test may run one stack after another in one process; each has its own manager.
		Controller: config.Controller{SkipNameValidation: new(true)},
	})
	if err != nil {
		return fmt.Errorf("operator: %w", err)
	}
	s.rs = &ferretReplicaSet{addr: s.ferret.Addr(), uri: s.ferret.URI(), log: s.log.With("as", "replicaset")}
	if _, err := controllers.Setup(mgr, s.rs); err != nil {
		return fmt.Errorf("operator: %w", err)
	}
	s.mgrDone = make(chan struct{})
	go func() {
		defer close(s.mgrDone)
		if err := mgr.Start(s.life); err != nil {
			s.log.Error("operator stopped", "err", err)
		}
	}()
	s.ingressReader = mgr.GetClient()
	return nil
}

// applySample creates the namespace and the sample shop; one kept in etcd from an earlier
// run (perhaps edited with kubectl) is left as it is.
func (s *Stack) applySample(ctx context.Context) error {
	raw, err := os.ReadFile(s.cfg.Sample)
	if err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	var shop shopv1.LittleEcom
	if err := yaml.UnmarshalStrict(raw, &shop); err != nil {
		return fmt.Errorf("sample %s: %w", s.cfg.Sample, err)
	}
	shop.Namespace = s.cfg.Namespace
	if s.cfg.OTLPEndpoint != "" {
		shop.Spec.Tracing.OTLPEndpoint = shopv1.OTLPEndpoint(s.cfg.OTLPEndpoint)
	}
	s.instance = shop.Name
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: s.cfg.Namespace}}
	if err := s.client.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("namespace %s: %w", s.cfg.Namespace, err)
	}
	switch err := s.client.Create(ctx, &shop); {
	case apierrors.IsAlreadyExists(err):
		s.log.Info("LittleEcom kept from an earlier run (data dir)", "name", s.cfg.Namespace+"/"+shop.Name)
		if s.cfg.OTLPEndpoint != "" {
			s.log.Warn(EnvOTLPEndpoint + " applies to a new shop only: set spec.tracing.otlpEndpoint with kubectl edit, or delete the data dir")
		}
	case err != nil:
		return fmt.Errorf("applying %s: %w", s.cfg.Sample, err)
	default:
		s.log.Info("applied the sample", "file", s.cfg.Sample, "name", s.cfg.Namespace+"/"+shop.Name)
	}
	return nil
}

func (s *Stack) names() resource.Names {
	return resource.Names{Instance: s.instance, Namespace: s.cfg.Namespace}
}

// waitForChildren waits until the operator created what the local stand-ins need.
func (s *Stack) waitForChildren(ctx context.Context) error {
	n := s.names()
	want := make([]client.Object, 0, 3+len(serviceComponents))
	want = append(want,
		&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: n.MongoDB()}},
		&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: n.RabbitMQ()}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: n.RabbitMQDefinitions()}})
	for _, c := range serviceComponents {
		want = append(want, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: n.Service(c)}})
	}
	t0 := time.Now()
	for {
		var missing []string
		for _, obj := range want {
			err := s.client.Get(ctx, client.ObjectKey{Namespace: s.cfg.Namespace, Name: obj.GetName()}, obj)
			if err != nil {
				missing = append(missing, fmt.Sprintf("%T %s", obj, obj.GetName()))
			}
		}
		if len(missing) == 0 {
			s.log.Info("the operator created the shop's children", "took", time.Since(t0).Round(100*time.Millisecond))
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("operator: after %s still missing %s; shop conditions: %s",
				time.Since(t0).Round(time.Second), strings.Join(missing, ", "), s.conditions(context.Background()))
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// conditions summarises the shop's conditions that are not True.
func (s *Stack) conditions(ctx context.Context) string {
	var shop shopv1.LittleEcom
	if err := s.client.Get(ctx, client.ObjectKey{Namespace: s.cfg.Namespace, Name: s.instance}, &shop); err != nil {
		return err.Error()
	}
	var parts []string
	for _, c := range shop.Status.Conditions {
		if c.Status != metav1.ConditionTrue {
			parts = append(parts, fmt.Sprintf("%s=%s (%s: %s)", c.Type, c.Status, c.Reason, c.Message))
		}
	}
	if len(parts) == 0 {
		return "phase " + string(shop.Status.Phase)
	}
	return strings.Join(parts, "; ")
}

// importDefinitions loads the operator's definitions.json into the local broker.
func (s *Stack) importDefinitions(ctx context.Context) error {
	var secret corev1.Secret
	if err := s.client.Get(ctx, client.ObjectKey{Namespace: s.cfg.Namespace, Name: s.names().RabbitMQDefinitions()}, &secret); err != nil {
		return fmt.Errorf("rabbitmq definitions: %w", err)
	}
	defs := secret.Data[resource.RabbitMQDefinitionsKey]
	if len(defs) == 0 {
		return fmt.Errorf("rabbitmq definitions: Secret %s has no %s", secret.Name, resource.RabbitMQDefinitionsKey)
	}
	if err := s.broker.importDefinitions(ctx, defs); err != nil {
		return fmt.Errorf("rabbitmq: importing the operator's definitions.json into vhost %s: %w", s.cfg.VHost, err)
	}
	s.log.Info("imported the operator's definitions.json into the local RabbitMQ", "secret", secret.Name,
		"vhost", s.cfg.VHost, "users", strings.Join(s.broker.users, ","),
		"why_renamed", "users are broker-wide and the broker is shared; passwords and permissions are the operator's")
	return nil
}

// waitForEdgeAndStatus waits a little for the Ingress and the shop's Ready condition and
// says plainly when either is missing; neither stops make dev.
func (s *Stack) waitForEdgeAndStatus(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	ingressSeen, readySeen := false, false
	for !ingressSeen || !readySeen {
		if !ingressSeen {
			if _, err := s.readIngress(ctx); err == nil {
				ingressSeen = true
			}
		}
		if !readySeen {
			var shop shopv1.LittleEcom
			if err := s.client.Get(ctx, client.ObjectKey{Namespace: s.cfg.Namespace, Name: s.instance}, &shop); err == nil &&
				meta.IsStatusConditionTrue(shop.Status.Conditions, shopv1.ConditionReady) {
				readySeen = true
			}
		}
		select {
		case <-ctx.Done():
			if !ingressSeen {
				s.log.Warn("the operator has not created the Ingress: the gateway answers 503 until it does", "ingress", s.cfg.Namespace+"/"+s.names().Ingress())
			}
			if !readySeen {
				s.log.Warn("the shop is not Ready yet", "not_ready", s.conditions(context.Background()))
			}
			return
		case <-time.After(250 * time.Millisecond):
		}
	}
	s.log.Info("the shop is Ready and its Ingress is there")
}
