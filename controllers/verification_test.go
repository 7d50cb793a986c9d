package controllers

import (
	"encoding/json"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/contract"
)

// definitionsPermissions reads the permissions out of the broker's definitions Secret.
func definitionsPermissions(defs *corev1.Secret) map[string]map[string]string {
	var d struct {
		Permissions []map[string]string `json:"permissions"`
	}
	ExpectWithOffset(1, json.Unmarshal(defs.Data["definitions.json"], &d)).To(Succeed())
	out := map[string]map[string]string{}
	for _, p := range d.Permissions {
		out[p["user"]] = p
	}
	return out
}

var _ = Describe("LittleEcom e-mail verification", func() {
	const name = "shop"
	var ns string
	BeforeEach(func() {
		ns = newNamespace()
		Expect(k8sClient.Create(ctx, newShop(ns, name))).To(Succeed())
	})

	It("gives auth a publish-only broker user and the link's base URL only when it is turned on", func() {
		By("leaving auth without a broker user by default")
		cm := &corev1.ConfigMap{}
		eventually(ns, name+"-auth", cm)
		Expect(cm.Data).To(HaveKeyWithValue(contract.EnvAuthEmailVerification, "false"))
		Expect(cm.Data).NotTo(HaveKey(contract.EnvAMQPURL))
		err := k8sClient.Get(ctx, key(ns, name+"-rabbitmq-auth"), &corev1.Secret{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "auth's broker Secret exists without verification: %v", err)

		By("turning verification on behind an Ingress with a host and TLS")
		updateShop(ns, name, func(le *shopv1.LittleEcom) {
			le.Spec.Auth.EmailVerification = true
			le.Spec.Ingress.Host = "shop.example.com"
			le.Spec.Ingress.TLSSecretName = "shop-tls"
		})
		secret := &corev1.Secret{}
		eventually(ns, name+"-rabbitmq-auth", secret)
		Expect(string(secret.Data[contract.SecretKeyUsername])).To(Equal("auth"))
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, key(ns, name+"-auth"), cm)).To(Succeed())
			g.Expect(cm.Data).To(HaveKeyWithValue(contract.EnvAuthEmailVerification, "true"))
			g.Expect(cm.Data).To(HaveKeyWithValue(contract.EnvAuthPublicURL, "https://shop.example.com"))
			g.Expect(cm.Data).To(HaveKey(contract.EnvAMQPURL))
		}, timeout, interval).Should(Succeed())
		Eventually(func(g Gomega) {
			defs := &corev1.Secret{}
			g.Expect(k8sClient.Get(ctx, key(ns, name+"-rabbitmq-definitions"), defs)).To(Succeed())
			g.Expect(definitionsPermissions(defs)).To(HaveKeyWithValue("auth", map[string]string{
				"user": "auth", "vhost": "/", "configure": "^$", "write": "^ecom-exchange$", "read": "^$",
			}))
		}, timeout, interval).Should(Succeed())
	})
})
