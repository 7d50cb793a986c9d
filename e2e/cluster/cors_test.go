package cluster

import (
	"net/http"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"littleecom.io/littleecom/internal/resource"
)

// The original shop set CORS headers in the backend and in the Ingress, and browsers
// refused the doubled Access-Control-Allow-Origin. Here the ingress controller answers CORS
// from the Ingress's annotations, and the services' own CORS is off.
func describeCORS() {
	Context("CORS", func() {
		It("is answered by the ingress controller with exactly one Access-Control-Allow-Origin", func(ctx SpecContext) {
			var ing networkingv1.Ingress
			Expect(k8s.Get(ctx, client.ObjectKey{Namespace: env.namespace, Name: names.Ingress()}, &ing)).To(Succeed())
			Expect(ing.Annotations).To(HaveKeyWithValue(resource.AnnotationNginxEnableCORS, "true"))
			origin, want := corsOrigin(ing.Annotations[resource.AnnotationNginxCORSAllowOrigin])

			By("a preflight from " + origin)
			r := api.send(ctx, request{method: http.MethodOptions, path: "/item", header: map[string]string{
				"Origin":                         origin,
				"Access-Control-Request-Method":  http.MethodPost,
				"Access-Control-Request-Headers": "authorization,content-type",
			}})
			Expect(r.status).To(BeElementOf(http.StatusOK, http.StatusNoContent), "preflight: %s", r.text())
			Expect(r.header.Values("Access-Control-Allow-Origin")).To(Equal([]string{want}), "preflight Access-Control-Allow-Origin")
			Expect(r.header.Values("Access-Control-Allow-Methods")).To(HaveLen(1), "preflight Access-Control-Allow-Methods")
			Expect(r.header.Get("Access-Control-Allow-Methods")).To(ContainSubstring(http.MethodPost))

			By("a simple GET from " + origin)
			r = api.send(ctx, request{method: http.MethodGet, path: "/items", header: map[string]string{"Origin": origin}})
			Expect(r.status).To(Equal(http.StatusOK))
			Expect(r.header.Values("Access-Control-Allow-Origin")).To(Equal([]string{want}), "GET /items Access-Control-Allow-Origin")
		}, SpecTimeout(time.Minute))
	})
}

// corsOrigin picks a browser origin the Ingress allows and the Access-Control-Allow-Origin
// that must answer it: "*" as is, or the origin echoed.
func corsOrigin(allowed string) (origin, want string) {
	first, _, _ := strings.Cut(allowed, ",")
	first = strings.TrimSpace(first)
	if first == "" || first == "*" {
		return "https://shop-" + run + ".example.com", "*"
	}
	return first, first
}
