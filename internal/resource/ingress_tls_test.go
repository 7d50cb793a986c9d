package resource

import (
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	shopv1 "littleecom.io/littleecom/api/v1"
)

func TestIngress_CertManagerIssuerSetsAnnotationAndTLS(t *testing.T) {
	cases := []struct {
		name       string
		cm         *shopv1.CertManagerSpec
		secret     string
		wantKey    string
		wantSecret string
	}{
		{"issuer", &shopv1.CertManagerSpec{IssuerName: "letsencrypt"}, "", AnnotationCertManagerIssuer, "shop-tls"},
		{"cluster issuer with a named secret", &shopv1.CertManagerSpec{IssuerName: "le-prod", IssuerKind: shopv1.IssuerKindClusterIssuer},
			"shop-cert", AnnotationCertManagerClusterIssuer, "shop-cert"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestShop(t, func(spec *shopv1.LittleEcomSpec) {
				spec.Ingress.Host = "shop.example.com"
				spec.Ingress.TLSSecretName = tc.secret
				spec.Ingress.CertManager = tc.cm
			})
			b := s.Ingress()
			ing := b.Build().(*networkingv1.Ingress)
			if err := b.Update(ing); err != nil {
				t.Fatal(err)
			}
			if got := ing.Annotations[tc.wantKey]; got != tc.cm.IssuerName {
				t.Errorf("annotation %s = %q, want %q (all: %v)", tc.wantKey, got, tc.cm.IssuerName, ing.Annotations)
			}
			if len(ing.Spec.TLS) != 1 || ing.Spec.TLS[0].SecretName != tc.wantSecret ||
				len(ing.Spec.TLS[0].Hosts) != 1 || ing.Spec.TLS[0].Hosts[0] != "shop.example.com" {
				t.Errorf("tls = %+v, want secret %s for shop.example.com", ing.Spec.TLS, tc.wantSecret)
			}
			if IngressScheme(s.Instance.Spec.Ingress) != "https" {
				t.Error("an Ingress with a cert-manager certificate serves https")
			}
			before := ing.DeepCopy()
			if err := b.Update(ing); err != nil {
				t.Fatal(err)
			}
			if len(ing.Annotations) != len(before.Annotations) || ing.Annotations[tc.wantKey] != before.Annotations[tc.wantKey] {
				t.Errorf("second Update changed annotations: %v -> %v", before.Annotations, ing.Annotations)
			}
		})
	}
}

func TestIngress_CertManagerKindSwitchAndRemovalKeepHandSetIssuers(t *testing.T) {
	cm := &shopv1.CertManagerSpec{IssuerName: "le", IssuerKind: shopv1.IssuerKindClusterIssuer}
	s := newTestShop(t, func(spec *shopv1.LittleEcomSpec) {
		spec.Ingress.Host = "shop.example.com"
		spec.Ingress.CertManager = cm
	})
	b := s.Ingress()
	ing := b.Build().(*networkingv1.Ingress)
	ing.Annotations = map[string]string{AnnotationCertManagerIssuer: "by-hand"}
	if err := b.Update(ing); err != nil {
		t.Fatal(err)
	}
	if _, both := ing.Annotations[AnnotationCertManagerIssuer]; both {
		t.Errorf("cert-manager refuses an Ingress with both issuer kinds; the spec's wins: %v", ing.Annotations)
	}
	// certManager removed: the operator's own annotation goes, and with it the tls section.
	s.Instance.Spec.Ingress.CertManager = nil
	if err := b.Update(ing); err != nil {
		t.Fatal(err)
	}
	if _, left := ing.Annotations[AnnotationCertManagerClusterIssuer]; left || ing.Spec.TLS != nil {
		t.Errorf("after removing certManager: annotations %v, tls %v", ing.Annotations, ing.Spec.TLS)
	}
	// An issuer annotation set by hand on a shop without certManager (TLS before this field) stays.
	ing.Annotations[AnnotationCertManagerClusterIssuer] = "hand"
	s.Instance.Spec.Ingress.TLSSecretName = "hand-tls"
	if err := b.Update(ing); err != nil {
		t.Fatal(err)
	}
	if ing.Annotations[AnnotationCertManagerClusterIssuer] != "hand" {
		t.Errorf("a hand-set issuer annotation was removed: %v", ing.Annotations)
	}
}
