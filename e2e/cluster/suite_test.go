package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"littleecom.io/littleecom/internal/resource"
)

// The suite's shared state, set once in BeforeSuite.
var (
	env   clusterEnv
	k8s   clients
	names resource.Names
	api   shopAPI
	// run makes the e-mail addresses and item names of this run unique: the shop keeps
	// accounts and items of earlier runs, and Mailpit their e-mails.
	run string
)

// Timeouts of the waits. The node has two shared cores: pods start in seconds, a shop's
// rollout in about a minute, its re-creation after deletion in a few.
const (
	poll         = 500 * time.Millisecond
	shortWait    = 30 * time.Second
	rolloutWait  = 3 * time.Minute
	recreateWait = 8 * time.Minute
)

func TestCluster(t *testing.T) {
	var ok bool
	if env, ok = envFromOS(); !ok {
		t.Skipf("%s is unset: this suite runs against the shop on the real node (make test-cluster)", envKubeconfig)
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "LittleEcom on a real node")
}

var _ = BeforeSuite(func(ctx SpecContext) {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	var err error
	k8s, err = newClients(env.kubeconfig)
	Expect(err).NotTo(HaveOccurred())
	names = resource.Names{Instance: env.shop, Namespace: env.namespace}
	api = shopAPI{base: env.url, http: &http.Client{Timeout: 20 * time.Second}}
	run = randomHex(4)
	GinkgoWriter.Printf("run %s: shop %s/%s at %s\n", run, env.namespace, env.shop, env.url)

	By("taking the suite's Lease: one run at a time")
	acquireSuiteLock(ctx)

	By("waiting for the shop to be Ready and to answer through the ingress controller")
	expectShopReady(ctx, rolloutWait)
	Eventually(func(g Gomega) {
		g.Expect(api.get(ctx, "/items").status).To(Equal(http.StatusOK))
	}).WithContext(ctx).WithTimeout(time.Minute).WithPolling(poll).Should(Succeed())
}, NodeTimeout(lockWait+5*time.Minute))

// The specs run in this order, destructive ones last. A failure does not skip the rest
// (ContinueOnFailure): each spec waits for the shop it needs and cleans up what it changed.
var _ = Describe("LittleEcom on a real node", Ordered, ContinueOnFailure, func() {
	describeShopper()
	describeCORS()
	describeEmails()
	describeNetworkPolicies()
	describeHardening()
	describeInstallation()
	describeImagesStatus()
	describeSecretRollout()
	describeHealing()
	describeOperatorRestart()
	describeDeletion()
})

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
