// Package namespacedtest runs the operator as a namespace-scoped installation against a
// real API server (envtest): the RBAC objects are the ones config/namespaced renders,
// applied as they are, and the manager runs as the operator's ServiceAccount
// (impersonated) with --watch-namespaces' settings. What the Roles do not allow, the API
// server refuses, as it would in a cluster.
package namespacedtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"littleecom.io/littleecom/controllers"
	"littleecom.io/littleecom/internal/envtestbin"
)

// The overlay's names: the watched namespace and the operator's service account.
const (
	watched        = "shop"
	operatorNS     = "littleecom-system"
	serviceAccount = "littleecom-controller-manager"
)

var (
	ctx       context.Context
	cancel    context.CancelFunc
	testEnv   *envtest.Environment
	k8sClient client.Client // the cluster admin, for setup and assertions
	scheme    = controllers.NewScheme()
	// rendered are the objects `kustomize build config/namespaced` printed.
	rendered []*unstructured.Unstructured
)

const (
	timeout  = 20 * time.Second
	interval = 100 * time.Millisecond
)

func TestNamespaced(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "LittleEcom operator, namespace-scoped installation")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	ctx, cancel = context.WithCancel(context.Background())

	By("rendering config/namespaced with the project's kustomize")
	root := filepath.Join("..", "..")
	out, err := exec.Command(filepath.Join(root, "bin", "kustomize"), "build", filepath.Join(root, "config", "namespaced")).Output()
	Expect(err).NotTo(HaveOccurred(), "bin/kustomize build config/namespaced")
	rendered = decodeAll(out)

	By("starting kube-apiserver and etcd")
	testEnv = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: envtestbin.Find(),
	}
	cfg, err := testEnv.Start()
	Expect(err).NotTo(HaveOccurred())
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	By("applying the overlay's namespaces, service account, Roles and RoleBindings")
	for _, ns := range []string{watched, "elsewhere"} {
		Expect(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	}
	for _, obj := range rendered {
		switch obj.GetKind() {
		case "Namespace", "ServiceAccount", "Role", "RoleBinding":
			Expect(k8sClient.Create(ctx, obj.DeepCopy())).To(Succeed(), "creating %s %s", obj.GetKind(), obj.GetName())
		}
	}

	By("starting the manager as the operator's service account, watching " + watched)
	asOperator := rest.CopyConfig(cfg)
	asOperator.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + operatorNS + ":" + serviceAccount,
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + operatorNS, "system:authenticated"},
	}
	mgr, err := ctrl.NewManager(asOperator, ctrl.Options{
		Scheme:  scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
		Cache:   controllers.CacheOptions(watched),
		// The watches must sync within the Roles' reach, or the controller never starts:
		// fail fast instead of the default two minutes.
		Controller: ctrlConfigSyncTimeout(15 * time.Second),
	})
	Expect(err).NotTo(HaveOccurred())
	_, err = controllers.SetupWithOptions(mgr, nil, controllers.Options{Namespaces: []string{watched}})
	Expect(err).NotTo(HaveOccurred())
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
})

var _ = AfterSuite(func() {
	cancel()
	Expect(testEnv.Stop()).To(Succeed())
})

// decodeAll splits a multi-document YAML stream into objects.
func decodeAll(data []byte) []*unstructured.Unstructured {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		obj := &unstructured.Unstructured{}
		err := dec.Decode(&obj.Object)
		if errors.Is(err, io.EOF) {
			return out
		}
		Expect(err).NotTo(HaveOccurred())
		if len(obj.Object) > 0 {
			out = append(out, obj)
		}
	}
}

func key(ns, name string) client.ObjectKey { return client.ObjectKey{Namespace: ns, Name: name} }
