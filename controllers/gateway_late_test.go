package controllers

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"littleecom.io/littleecom/internal/envtestbin"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	shopv1 "littleecom.io/littleecom/api/v1"
)

// httpRouteCRD is the Standard-channel HTTPRoute CRD shipped in the gateway-api module.
func httpRouteCRD() string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/gateway-api").Output()
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), "go list the gateway-api module")
	return filepath.Join(strings.TrimSpace(string(out)), "config", "crd", "standard", "gateway.networking.k8s.io_httproutes.yaml")
}

// This container runs its own API server and operator: the main suite's must keep running
// without the Gateway API CRDs, and this one installs them halfway.
var _ = Describe("LittleEcom when the Gateway API CRDs are installed after the operator started", Ordered, func() {
	var (
		env     *envtest.Environment
		restCfg *rest.Config
		c       client.Client
	)

	BeforeAll(func() {
		env = &envtest.Environment{
			CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases")},
			ErrorIfCRDPathMissing: true,
			BinaryAssetsDirectory: envtestbin.Find(),
		}
		var err error
		restCfg, err = env.Start()
		Expect(err).NotTo(HaveOccurred())
		c, err = client.New(restCfg, client.Options{Scheme: scheme})
		Expect(err).NotTo(HaveOccurred())

		mgr, err := ctrl.NewManager(restCfg, ctrl.Options{
			Scheme:     scheme,
			Metrics:    metricsserver.Options{BindAddress: "0"},
			Cache:      CacheOptions(),
			Controller: config.Controller{SkipNameValidation: new(true)}, // the main suite's is also "littleecom"
		})
		Expect(err).NotTo(HaveOccurred())
		r := &LittleEcomReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Scheme: mgr.GetScheme(),
			Recorder: mgr.GetEventRecorder("littleecom-operator")}
		Expect(r.SetupWithManager(mgr)).To(Succeed())
		Expect(r.gateway.installed).To(BeFalse(), "no Gateway API CRDs at start")
		r.gateway.recheck = 200 * time.Millisecond // set before the manager starts

		mgrCtx, stop := context.WithCancel(ctx)
		go func() {
			defer GinkgoRecover()
			Expect(mgr.Start(mgrCtx)).To(Succeed())
		}()
		DeferCleanup(func() {
			stop()
			Expect(env.Stop()).To(Succeed())
		})
	})

	It("reports the missing CRDs, then creates and watches the HTTPRoute once they exist", func() {
		const name = "late"
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "late-"}}
		Expect(c.Create(ctx, ns)).To(Succeed())
		le := newShop(ns.Name, name)
		le.Spec.Ingress.Enabled = new(false)
		le.Spec.Gateway = &shopv1.GatewaySpec{ParentRefs: []shopv1.GatewayParentRef{{Name: "public"}}}
		Expect(c.Create(ctx, le)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(c.Get(ctx, key(ns.Name, name), le)).To(Succeed())
			cond := condition(le, shopv1.ConditionIngressReady)
			g.Expect(cond).NotTo(BeNil())
			g.Expect(cond.Reason).To(Equal(shopv1.ReasonGatewayAPINotInstalled))
		}, timeout, interval).Should(Succeed())

		By("installing the HTTPRoute CRD; the shop's next reconcile finds it")
		_, err := envtest.InstallCRDs(restCfg, envtest.CRDInstallOptions{Paths: []string{httpRouteCRD()}})
		Expect(err).NotTo(HaveOccurred())
		route := &gatewayv1.HTTPRoute{}
		poke := 0
		Eventually(func(g Gomega) {
			fresh := &shopv1.LittleEcom{}
			g.Expect(c.Get(ctx, key(ns.Name, name), fresh)).To(Succeed())
			poke++
			fresh.Annotations = map[string]string{"test/poke": strings.Repeat("x", poke)}
			g.Expect(c.Update(ctx, fresh)).To(Succeed())
			g.Expect(c.Get(ctx, key(ns.Name, name), route)).To(Succeed())
		}, timeout, 500*time.Millisecond).Should(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(c.Get(ctx, key(ns.Name, name), le)).To(Succeed())
			g.Expect(condition(le, shopv1.ConditionIngressReady).Reason).To(Equal(shopv1.ReasonWaitingForGateway))
		}, timeout, interval).Should(Succeed())

		By("deleting the route by hand: the watch started late puts it back")
		Expect(c.Delete(ctx, route)).To(Succeed())
		Eventually(func(g Gomega) {
			fresh := &gatewayv1.HTTPRoute{}
			g.Expect(c.Get(ctx, key(ns.Name, name), fresh)).To(Succeed())
			g.Expect(fresh.UID).NotTo(Equal(route.UID))
		}, timeout, interval).Should(Succeed())
	})
})
