package controllers

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"littleecom.io/littleecom/internal/envtestbin"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// The suite runs the real reconciler in a manager against a real kube-apiserver and etcd
// (envtest). There is no kubelet: pods never run, so specs write StatefulSet and Deployment
// status themselves to play the part of the workload controllers.
var (
	ctx       context.Context
	cancel    context.CancelFunc
	testEnv   *envtest.Environment
	cfg       *rest.Config
	k8sClient client.Client // uncached, so assertions see the API server, not a cache
	scheme    = NewScheme()
	writes    *countingClient
	// reconciler is the one the manager runs, for the specs that look at its memory.
	reconciler *LittleEcomReconciler
)

func TestControllers(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "LittleEcom controller suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	ctx, cancel = context.WithCancel(context.Background())

	By("starting kube-apiserver and etcd")
	testEnv = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: envtestbin.Find(),
	}
	// Every spec's shop keeps its Services (envtest has no namespace controller to delete
	// them): a /16 instead of the default /24 keeps the suite from running out of ClusterIPs.
	testEnv.ControlPlane.GetAPIServer().Configure().Set("service-cluster-ip-range", "10.0.0.0/16")
	var err error
	cfg, err = testEnv.Start()
	Expect(err).NotTo(HaveOccurred())
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	By("starting the manager with the LittleEcom reconciler")
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:  scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
		Cache:   CacheOptions(),
	})
	Expect(err).NotTo(HaveOccurred())
	writes = &countingClient{Client: mgr.GetClient()}
	reconciler = &LittleEcomReconciler{
		Client:     writes,
		APIReader:  mgr.GetAPIReader(),
		Scheme:     mgr.GetScheme(),
		Recorder:   mgr.GetEventRecorder("littleecom-operator"),
		ReplicaSet: testReplicaSet,
		// Short enough for the specs to see an external database go away and come back.
		External: ExternalMongoDB{Timeout: 2 * time.Second, Resync: time.Second},
	}
	Expect(reconciler.SetupWithManager(mgr)).To(Succeed())
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
})

var _ = AfterSuite(func() {
	cancel()
	doubles.closeAll()
	Expect(testEnv.Stop()).To(Succeed())
})

// countingClient counts every write the reconciler makes, status writes included, by the
// namespace of the object written: the shops of earlier specs are still reconciled (their
// periodic checks), so a spec counts the writes in its own namespace (and cluster-scoped
// ones) only.
type countingClient struct {
	client.Client
	mu   sync.Mutex
	byNS map[string]*atomic.Int64
}

// in returns the count of writes to objects in namespace ns.
func (c *countingClient) in(ns string) *atomic.Int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byNS == nil {
		c.byNS = map[string]*atomic.Int64{}
	}
	n := c.byNS[ns]
	if n == nil {
		n = &atomic.Int64{}
		c.byNS[ns] = n
	}
	return n
}

// seen is the count of writes a spec in namespace ns watches: those in ns and those of
// cluster-scoped objects (a shop's ClusterRoleBinding).
func (c *countingClient) seen(ns string) int64 { return c.in(ns).Load() + c.in("").Load() }

func (c *countingClient) count(kind string, obj client.Object) {
	c.in(obj.GetNamespace()).Add(1)
	GinkgoWriter.Printf("WRITE %s %T %s/%s\n", kind, obj, obj.GetNamespace(), obj.GetName())
}

func (c *countingClient) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	c.count("create", obj)
	return c.Client.Create(ctx, obj, opts...)
}

func (c *countingClient) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	c.count("update", obj)
	return c.Client.Update(ctx, obj, opts...)
}

func (c *countingClient) Patch(ctx context.Context, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
	c.count("patch", obj)
	return c.Client.Patch(ctx, obj, p, opts...)
}

func (c *countingClient) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	c.count("delete", obj)
	return c.Client.Delete(ctx, obj, opts...)
}

func (c *countingClient) Status() client.SubResourceWriter {
	return &countingStatus{SubResourceWriter: c.Client.Status(), c: c}
}

type countingStatus struct {
	client.SubResourceWriter
	c *countingClient
}

func (s *countingStatus) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	s.c.count("status update", obj)
	return s.SubResourceWriter.Update(ctx, obj, opts...)
}

func (s *countingStatus) Patch(ctx context.Context, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
	s.c.count("status patch", obj)
	return s.SubResourceWriter.Patch(ctx, obj, p, opts...)
}

const (
	timeout  = 20 * time.Second
	interval = 100 * time.Millisecond
)
