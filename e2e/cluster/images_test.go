package cluster

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/resource"
)

// status.images is what an administrator reads to know which image each component runs
// (issue 14: images the operator owns). On the node it is checked against what the kubelet
// reports the pods really run, not against the templates the operator wrote.
func describeImagesStatus() {
	Context("status.images", func() {
		It("names the image every pod of each component runs, with where it comes from", func(ctx SpecContext) {
			expectShopWorkloadsRolledOut(ctx)
			expectShopReady(ctx, rolloutWait)
			le, err := getShop(ctx)
			Expect(err).NotTo(HaveOccurred())

			want := []string{resource.ComponentRabbitMQ, resource.ComponentBackend, resource.ComponentAuth, resource.ComponentNotifier}
			if le.Spec.MongoDB.External == nil {
				want = append(want, resource.ComponentMongoDB)
			}
			components := make([]string, 0, len(le.Status.Images))
			for _, img := range le.Status.Images {
				components = append(components, img.Component)
			}
			Expect(components).To(ConsistOf(want), "components in status.images")

			for _, img := range le.Status.Images {
				Expect(img.Updating).To(BeFalse(), "%s is reported as updating in a Ready shop", img.Component)
				wantSource := shopv1.ImageSourceOperator
				if (&resource.Shop{Instance: le}).PinnedImage(img.Component) != "" {
					wantSource = shopv1.ImageSourceSpec
				}
				Expect(img.Source).To(Equal(wantSource), "source of %s", img.Component)

				var pods corev1.PodList
				Expect(k8s.List(ctx, &pods, client.InNamespace(env.namespace), client.MatchingLabels{
					resource.LabelInstance: env.shop, resource.LabelComponent: img.Component,
				})).To(Succeed())
				Expect(pods.Items).NotTo(BeEmpty(), "pods of %s", img.Component)
				for _, pod := range pods.Items {
					if pod.DeletionTimestamp != nil {
						continue
					}
					Expect(pod.Status.ContainerStatuses).NotTo(BeEmpty(), "%s has no container statuses", pod.Name)
					// The component's container is the template's first; the kubelet reports
					// the reference fully qualified.
					main := pod.Spec.Containers[0].Name
					for _, cs := range pod.Status.ContainerStatuses {
						if cs.Name == main {
							Expect(sameImage(cs.Image, img.Image)).To(BeTrue(),
								"%s/%s runs %s, status.images says %s", pod.Name, cs.Name, cs.Image, img.Image)
						}
					}
				}
			}
		})
	})
}

// sameImage compares two references as the container runtime resolves them, ignoring the
// registry it qualifies a short reference with and the implicit library/ path.
func sameImage(a, b string) bool { return repositoryAndTag(a) == repositoryAndTag(b) }

func repositoryAndTag(ref string) string {
	if first, rest, ok := strings.Cut(ref, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		ref = rest
	}
	return strings.TrimPrefix(ref, "library/")
}
