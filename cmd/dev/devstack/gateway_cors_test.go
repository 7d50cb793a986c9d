package devstack

import (
	"slices"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/controllers"
	"littleecom.io/littleecom/internal/cors"
	"littleecom.io/littleecom/internal/resource"
)

// operatorIngress is the Ingress the operator's builder renders for spec.ingress.cors.
func operatorIngress(t *testing.T, spec shopv1.CORSSpec) *networkingv1.Ingress {
	t.Helper()
	shop := &shopv1.LittleEcom{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "ns", UID: "uid-1"}}
	shop.Spec.Ingress.CORS = spec
	b := resource.NewShop(shop, controllers.NewScheme()).Ingress()
	ing := b.Build()
	if err := b.Update(ing); err != nil {
		t.Fatalf("Update: %v", err)
	}
	return ing.(*networkingv1.Ingress)
}

// The operator renders spec.ingress.cors as annotations and the gateway reads them back:
// both ends must mean the same policy, or `make dev` would answer CORS unlike a cluster.
func TestGateway_ReadsThePolicyTheOperatorRenders(t *testing.T) {
	tests := []struct {
		name string
		spec shopv1.CORSSpec
		want cors.Policy
	}{
		{"the CRD's defaults (the builder applies them for an empty spec)", shopv1.CORSSpec{}, cors.Policy{
			Enabled:      true,
			AllowOrigins: []string{"*"},
			AllowMethods: []string{"GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"},
			AllowHeaders: []string{"DNT", "Keep-Alive", "User-Agent", "X-Requested-With", "If-Modified-Since",
				"Cache-Control", "Content-Type", "Range", "Authorization"},
			MaxAge: 86400,
		}},
		{"listed and wildcard origins with credentials", shopv1.CORSSpec{
			AllowOrigins:     []shopv1.Origin{"https://shop.example.com", "https://*.example.org"},
			AllowMethods:     []shopv1.HTTPMethod{"GET", "POST"},
			AllowHeaders:     []shopv1.HeaderName{"Authorization"},
			AllowCredentials: true,
			MaxAge:           ptr.To[int32](0),
		}, cors.Policy{
			Enabled:          true,
			AllowOrigins:     []string{"https://shop.example.com", "https://*.example.org"},
			AllowMethods:     []string{"GET", "POST"},
			AllowHeaders:     []string{"Authorization"},
			AllowCredentials: true,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := corsFromAnnotations(operatorIngress(t, tt.spec).Annotations)
			if got.Enabled != tt.want.Enabled || !slices.Equal(got.AllowOrigins, tt.want.AllowOrigins) ||
				!slices.Equal(got.AllowMethods, tt.want.AllowMethods) || !slices.Equal(got.AllowHeaders, tt.want.AllowHeaders) ||
				got.AllowCredentials != tt.want.AllowCredentials || got.MaxAge != tt.want.MaxAge || len(got.ExposeHeaders) != 0 {
				t.Errorf("gateway reads %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// An origin that differs from a listed one only by its port, or that merely ends in a
// listed host, was refused by the middleware, the gateway and ingress-nginx alike, and no
// test said so; a wildcard origin, which the CRD accepts, now matches at the gateway and in
// the services' middleware the same way.
func TestGateway_AllowOriginAgreesWithThePolicy(t *testing.T) {
	p := corsFromAnnotations(operatorIngress(t, shopv1.CORSSpec{
		AllowOrigins: []shopv1.Origin{"https://shop.example.com", "https://*.example.org"},
	}).Annotations)
	for origin, want := range map[string]string{
		"https://shop.example.com":          "https://shop.example.com",
		"https://Shop.Example.com":          "https://Shop.Example.com",
		"https://a.example.org":             "https://a.example.org",
		"https://shop.example.com:8443":     "",
		"https://shop.example.com.evil.net": "",
		"https://example.org":               "",
		"http://a.example.org":              "",
		"":                                  "",
	} {
		if got := allowOrigin(p, origin); got != want {
			t.Errorf("allowOrigin(%q) = %q, want %q", origin, got, want)
		}
		if got := p.Allows(origin); got != (want != "") {
			t.Errorf("Allows(%q) = %v, disagrees with the gateway's answer %q", origin, got, want)
		}
	}
}
