package cluster

import (
	"net"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/internal/resource"
)

// The operator admits only the backend and the notifier to RabbitMQ's AMQP port
// (internal/resource/networkpolicy.go); config/cluster/infra admits only the shops' services
// and the operator to FerretDB. The node's NetworkPolicy enforcer must make that true.
func describeNetworkPolicies() {
	Context("NetworkPolicies", func() {
		var amqp, database, control string

		BeforeAll(func() {
			amqp = net.JoinHostPort(names.RabbitMQ(), strconv.Itoa(resource.RabbitMQAMQPPort))
			database = net.JoinHostPort("ferretdb."+env.infraNamespace, strconv.Itoa(resource.MongoDBPort))
			// No policy guards the backend's Service: any pod reaches it, which shows that
			// DNS and Service routing work for the pod, and that a refusal is the policy's.
			control = net.JoinHostPort(names.Service(resource.ComponentBackend), strconv.Itoa(contract.HTTPPort))
		})

		It("keep a pod without the services' labels away from RabbitMQ's AMQP port, the database and the services' management ports", func(ctx SpecContext) {
			// The management ports (metrics, health) admit only a scraper namespace, which
			// the node's shop does not name: the shop's default-deny policy closes them.
			var management []string
			for _, c := range []string{resource.ComponentBackend, resource.ComponentNotifier} {
				pod := readyPodOf(ctx, env.namespace, names.Service(c))
				management = append(management, net.JoinHostPort(pod.Status.PodIP, strconv.Itoa(contract.ManagementPort)))
			}
			closed := append([]string{amqp, database}, management...)
			var results map[string]netcheckResult
			Eventually(func(g Gomega) {
				var err error
				results, err = runNetcheck(ctx, "netcheck-stranger", map[string]string{"app.kubernetes.io/name": "netcheck"},
					append([]string{control}, closed...), 0)
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(results[control].OK).To(BeTrue(), "the pod reaches the backend's Service %s: %s", control, results[control].Error)
			}).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(2 * time.Second).Should(Succeed())
			for _, target := range closed {
				Expect(results[target].OK).To(BeFalse(), "a pod without the services' labels opened %s", target)
				Expect(results[target].Error).NotTo(ContainSubstring("lookup"), "%s: the name must resolve; the policy must refuse", target)
			}
		}, SpecTimeout(3*time.Minute))

		It("let a pod with the backend's labels open both", func(ctx SpecContext) {
			// The enforcer learns of a new pod's address and labels a moment after the pod
			// starts: the first attempts may be refused, a later one must not.
			Eventually(func(g Gomega) {
				results, err := runNetcheck(ctx, "netcheck-backend", backendPeerLabels(), []string{amqp, database}, 30*time.Second)
				g.Expect(err).NotTo(HaveOccurred())
				for _, target := range []string{amqp, database} {
					g.Expect(results[target].OK).To(BeTrue(), "%s: %s", target, results[target].Error)
				}
			}).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(2 * time.Second).Should(Succeed())
		}, SpecTimeout(3*time.Minute))
	})
}

// backendPeerLabels are the backend pods' labels (the ones the policies select on: instance,
// component, part-of) without app.kubernetes.io/name, so that the backend's Service and
// ReplicaSet, whose selectors include it, do not take the test pod for a backend replica.
func backendPeerLabels() map[string]string {
	l := resource.Labels(env.shop, resource.ComponentBackend)
	delete(l, resource.LabelName)
	l[resource.LabelManagedBy] = "littleecom-e2e"
	return l
}
