package controllers

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/resource"
)

// The upgrade path of an existing shop. Releases up to 0.1.0 had CRD defaults for the
// RabbitMQ and service images, so the API server wrote them into every stored LittleEcom;
// such a shop looks exactly like one whose author typed those images. An operator upgrade
// (played here by SetDefaultImages, as a restart with other --default-*-image flags would)
// must move it, and leave alone the shops that pinned an image of their own.
var _ = Describe("Default images", func() {
	var ns string
	// What the 0.1.0 CRD wrote into every shop.
	storedOldDefaults := func(spec *shopv1.LittleEcomSpec) {
		spec.RabbitMQ.Image = "rabbitmq:3.13-management"
		spec.Backend.Image = "littleecom/backend:0.1.0"
		spec.Auth.Image = "littleecom/auth:0.1.0"
		spec.Notifier.Image = "littleecom/notifier:0.1.0"
	}
	pinned := func(spec *shopv1.LittleEcomSpec) {
		spec.RabbitMQ.Image = "library/rabbitmq:3.13-management" // the old default, pinned on purpose
		spec.Backend.Image = "registry.example/team/backend:custom"
		spec.MongoDB.Image = "mongo:7.0.14"
	}
	create := func(name string, mutate func(*shopv1.LittleEcomSpec)) {
		le := newShop(ns, name)
		if mutate != nil {
			mutate(&le.Spec)
		}
		Expect(k8sClient.Create(ctx, le)).To(Succeed())
	}
	images := func(name string) map[string]string {
		out := map[string]string{}
		sts := &appsv1.StatefulSet{}
		for _, c := range []string{"mongodb", "rabbitmq"} {
			if k8sClient.Get(ctx, key(ns, name+"-"+c), sts) == nil {
				out[c] = sts.Spec.Template.Spec.Containers[0].Image
			}
		}
		d := &appsv1.Deployment{}
		for _, c := range []string{"backend", "auth", "notifier"} {
			if k8sClient.Get(ctx, key(ns, name+"-"+c), d) == nil {
				out[c] = d.Spec.Template.Spec.Containers[0].Image
			}
		}
		return out
	}
	statusImages := func(name string) map[string]shopv1.ComponentImage {
		le := &shopv1.LittleEcom{}
		Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
		out := map[string]shopv1.ComponentImage{}
		for _, img := range le.Status.Images {
			out[img.Component] = img
		}
		return out
	}

	BeforeEach(func() { ns = newNamespace() })

	It("are no longer CRD defaults: the API server stores no image", func() {
		create("bare", nil)
		le := &shopv1.LittleEcom{}
		Expect(k8sClient.Get(ctx, key(ns, "bare"), le)).To(Succeed())
		Expect([]shopv1.Image{le.Spec.MongoDB.Image, le.Spec.RabbitMQ.Image, le.Spec.Backend.Image,
			le.Spec.Auth.Image, le.Spec.Notifier.Image}).To(HaveEach(shopv1.Image("")))
	})

	It("move existing shops on an operator upgrade unless they pinned an image, and say so in status", func() {
		create("unset", nil)
		create("stored", storedOldDefaults)
		create("pinned", pinned)
		old := resource.DefaultImages()
		Eventually(func(g Gomega) {
			g.Expect(images("unset")).To(Equal(map[string]string{"mongodb": old.MongoDB, "rabbitmq": old.RabbitMQ,
				"backend": old.Backend, "auth": old.Auth, "notifier": old.Notifier}))
			g.Expect(images("stored")).To(Equal(images("unset")))
			g.Expect(images("pinned")).To(Equal(map[string]string{"mongodb": "mongo:7.0.14",
				"rabbitmq": "library/rabbitmq:3.13-management", "backend": "registry.example/team/backend:custom",
				"auth": old.Auth, "notifier": old.Notifier}))
		}, timeout, interval).Should(Succeed())
		Eventually(func(g Gomega) {
			st := statusImages("stored")
			g.Expect(st).To(HaveLen(5))
			g.Expect(st["rabbitmq"].Source).To(Equal(shopv1.ImageSourceOperator), "an old CRD default counts as unset")
			g.Expect(st["backend"].Image).To(Equal(old.Backend))
			p := statusImages("pinned")
			g.Expect(p["rabbitmq"].Source).To(Equal(shopv1.ImageSourceSpec))
			g.Expect(p["mongodb"].Source).To(Equal(shopv1.ImageSourceSpec))
			g.Expect(p["auth"].Source).To(Equal(shopv1.ImageSourceOperator))
		}, timeout, interval).Should(Succeed())

		By("upgrading the operator to new default images")
		upgraded := resource.Images{MongoDB: "mongo:8.0", RabbitMQ: "rabbitmq:4.1-management",
			Backend: "littleecom/backend:0.2.0", Auth: "littleecom/auth:0.2.0", Notifier: "littleecom/notifier:0.2.0"}
		reconciler.SetDefaultImages(upgraded)
		DeferCleanup(func() { reconciler.SetDefaultImages(resource.DefaultImages()) })
		for _, name := range []string{"unset", "stored", "pinned"} {
			// A restarted operator reconciles every shop; here a touch does it.
			updateShop(ns, name, func(le *shopv1.LittleEcom) {
				le.Annotations = map[string]string{"test/upgrade": "1"}
			})
		}
		want := map[string]string{"mongodb": "mongo:8.0", "rabbitmq": "rabbitmq:4.1-management",
			"backend": "littleecom/backend:0.2.0", "auth": "littleecom/auth:0.2.0", "notifier": "littleecom/notifier:0.2.0"}
		Eventually(func(g Gomega) {
			g.Expect(images("unset")).To(Equal(want))
			g.Expect(images("stored")).To(Equal(want), "a shop created with the old CRD defaults follows the upgrade")
			g.Expect(images("pinned")).To(Equal(map[string]string{"mongodb": "mongo:7.0.14",
				"rabbitmq": "library/rabbitmq:3.13-management", "backend": "registry.example/team/backend:custom",
				"auth": "littleecom/auth:0.2.0", "notifier": "littleecom/notifier:0.2.0"}), "pinned images stay")
		}, timeout, interval).Should(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(statusImages("stored")["rabbitmq"].Image).To(Equal("rabbitmq:4.1-management"))
		}, timeout, interval).Should(Succeed())
	})
})
