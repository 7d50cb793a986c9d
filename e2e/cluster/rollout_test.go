package cluster

import (
	"context"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/internal/resource"
)

// rolloutKey is the key the suite adds to a Secret to change it without changing what the
// pods read from it.
const rolloutKey = "e2e-rollout"

// The operator writes a checksum of the Secrets and ConfigMaps a workload reads into its pod
// template (controllers/config_hash.go), so that changing one rolls the workload. Auth reads
// its signing key from the Secret the operator generated; the operator keeps a person's edits
// to it (it fills only missing keys). An added key changes the checksum, not the key.
func describeSecretRollout() {
	Context("a changed Secret", func() {
		It("rolls the Deployment that reads it, and the shop stays Ready", func(ctx SpecContext) {
			expectShopWorkloadsRolledOut(ctx)
			expectShopReady(ctx, shortWait)
			dep := client.ObjectKey{Namespace: env.namespace, Name: names.Service(resource.ComponentAuth)}
			secret := client.ObjectKey{Namespace: env.namespace, Name: names.AuthSigningKeySecret()}
			before := &appsv1.Deployment{}
			Expect(k8s.Get(ctx, dep, before)).To(Succeed())
			oldHash := before.Spec.Template.Annotations[resource.ConfigHashAnnotation]
			Expect(oldHash).NotTo(BeEmpty(), "auth's pod template carries the config checksum")
			oldRevision := before.Annotations[revisionAnnotation]
			probe := startAvailabilityProbe(ctx, contract.PathJWKS)

			By("adding a key to Secret " + secret.Name)
			patchSecret(ctx, secret, func(s *corev1.Secret) { s.Data[rolloutKey] = []byte(run) })
			DeferCleanup(func(ctx SpecContext) {
				patchSecret(ctx, secret, func(s *corev1.Secret) { delete(s.Data, rolloutKey) })
				Eventually(func(g Gomega) {
					d := &appsv1.Deployment{}
					g.Expect(k8s.Get(ctx, dep, d)).To(Succeed())
					g.Expect(d.Spec.Template.Annotations).To(HaveKeyWithValue(resource.ConfigHashAnnotation, oldHash))
					deploymentRolledOut(g, d)
				}).WithContext(ctx).WithTimeout(rolloutWait).WithPolling(poll).Should(Succeed())
			}, NodeTimeout(rolloutWait+time.Minute))

			By("waiting for a new ReplicaSet of " + dep.Name + " to be rolled out")
			Eventually(func(g Gomega) {
				d := &appsv1.Deployment{}
				g.Expect(k8s.Get(ctx, dep, d)).To(Succeed())
				hash := d.Spec.Template.Annotations[resource.ConfigHashAnnotation]
				g.Expect(hash).NotTo(BeEmpty())
				g.Expect(hash).NotTo(Equal(oldHash), "the config checksum")
				g.Expect(d.Annotations[revisionAnnotation]).NotTo(Equal(oldRevision), "the Deployment's revision")
				deploymentRolledOut(g, d)
				pods, err := podsOf(ctx, dep.Namespace, dep.Name)
				g.Expect(err).NotTo(HaveOccurred())
				for _, p := range pods {
					g.Expect(p.Annotations).To(HaveKeyWithValue(resource.ConfigHashAnnotation, hash), "pod %s runs the new template", p.Name)
					g.Expect(podReady(&p)).To(BeTrue(), "pod %s is Ready", p.Name)
				}
			}).WithContext(ctx).WithTimeout(rolloutWait).WithPolling(poll).Should(Succeed())
			expectShopReady(ctx, rolloutWait)

			By("signing in through the rolled-out auth")
			acc := newAccount("rolled")
			api.register(ctx, acc)
			api.signIn(ctx, acc)
			api.expect(ctx, "use the new token", request{method: http.MethodGet, path: "/orders", token: acc.token}, http.StatusOK)

			By("having lost no request to auth while it rolled")
			probe.expectNoFailures()
		}, SpecTimeout(2*rolloutWait+2*time.Minute))
	})
}

// revisionAnnotation is the Deployment controller's count of rollouts.
const revisionAnnotation = "deployment.kubernetes.io/revision"

// patchSecret changes a Secret with a merge patch.
func patchSecret(ctx context.Context, key client.ObjectKey, change func(*corev1.Secret)) {
	GinkgoHelper()
	s := &corev1.Secret{}
	Expect(k8s.Get(ctx, key, s)).To(Succeed())
	patch := client.MergeFrom(s.DeepCopy())
	if s.Data == nil {
		s.Data = map[string][]byte{}
	}
	change(s)
	Expect(k8s.Patch(ctx, s, patch)).To(Succeed())
}

// A workload's pod that is deleted is replaced; an operator pod that is deleted is replaced
// and takes over the shop.
func describeHealing() {
	Context("a deleted pod", func() {
		It("of the backend is replaced, and the shop is Ready again", func(ctx SpecContext) {
			expectShopWorkloadsRolledOut(ctx)
			probe := startAvailabilityProbe(ctx, "/items")
			deleteAndExpectReplaced(ctx, env.namespace, names.Service(resource.ComponentBackend))
			expectShopReady(ctx, rolloutWait)
			Eventually(func(g Gomega) {
				g.Expect(api.get(ctx, "/items").status).To(Equal(http.StatusOK))
			}).WithContext(ctx).WithTimeout(shortWait).WithPolling(poll).Should(Succeed())
			By("having lost no request to the backend while its pod was replaced")
			probe.expectNoFailures()
		}, SpecTimeout(2*rolloutWait))

		It("of the operator is replaced, and the shop stays Ready", func(ctx SpecContext) {
			expectDeploymentRolledOut(ctx, env.operatorNamespace, operatorDeployment, rolloutWait)
			deleteAndExpectReplaced(ctx, env.operatorNamespace, operatorDeployment)
			expectShopReady(ctx, rolloutWait)
		}, SpecTimeout(2*rolloutWait))
	})
}

// deleteAndExpectReplaced deletes a Ready pod of a Deployment and waits until a replacement
// is Ready and the deleted one is gone.
func deleteAndExpectReplaced(ctx context.Context, namespace, deployment string) {
	GinkgoHelper()
	pod := readyPodOf(ctx, namespace, deployment)
	By("deleting pod " + namespace + "/" + pod.Name)
	Expect(k8s.Delete(ctx, &pod, client.Preconditions{UID: &pod.UID})).To(Succeed())
	start := time.Now()
	expectPodReplaced(ctx, namespace, deployment, &pod, rolloutWait)
	GinkgoWriter.Printf("%s/%s replaced in %s\n", namespace, deployment, time.Since(start).Round(100*time.Millisecond))
}
