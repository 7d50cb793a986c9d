package resource

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/utils/ptr"

	shopv1 "littleecom.io/littleecom/api/v1"
)

func TestIngress_Defaults(t *testing.T) {
	s := newTestShop(t, nil)
	b := s.Ingress()
	if !b.(Optional).Enabled() {
		t.Fatal("the Ingress is on by default")
	}
	ing := buildOnce(t, b).(*networkingv1.Ingress)
	assertOwned(t, ing, "shop", ComponentIngress)
	if got := ptr.Deref(ing.Spec.IngressClassName, ""); got != "nginx" {
		t.Errorf("ingressClassName = %q, want nginx", got)
	}
	if ing.Spec.TLS != nil {
		t.Errorf("TLS = %+v, want none without tlsSecretName", ing.Spec.TLS)
	}
	if len(ing.Spec.Rules) != 1 || ing.Spec.Rules[0].Host != "" || ing.Spec.Rules[0].HTTP == nil {
		t.Fatalf("rules = %+v, want one rule for every host", ing.Spec.Rules)
	}
	type path struct{ path, service, port string }
	var got []path
	for _, p := range ing.Spec.Rules[0].HTTP.Paths {
		if p.PathType == nil || *p.PathType != networkingv1.PathTypePrefix {
			t.Errorf("path %s has pathType %v, want Prefix", p.Path, p.PathType)
		}
		got = append(got, path{p.Path, p.Backend.Service.Name, p.Backend.Service.Port.Name})
	}
	want := []path{{"/auth", "shop-auth", "http"}, {"/", "shop-backend", "http"}}
	if !slices.Equal(got, want) {
		t.Errorf("paths = %v, want %v", got, want)
	}
	wantAnn := map[string]string{
		AnnotationNginxEnableCORS:       "true",
		AnnotationNginxCORSAllowOrigin:  "*",
		AnnotationNginxCORSAllowMethods: "GET, PUT, POST, DELETE, PATCH, OPTIONS",
		AnnotationNginxCORSAllowHeaders: "DNT, Keep-Alive, User-Agent, X-Requested-With, If-Modified-Since, Cache-Control, Content-Type, Range, Authorization",
		AnnotationNginxCORSAllowCreds:   "false",
		AnnotationNginxCORSMaxAge:       "86400",
	}
	if !equality.Semantic.DeepEqual(ing.Annotations, wantAnn) {
		t.Errorf("annotations = %v\nwant %v", ing.Annotations, wantAnn)
	}
}

func TestIngress_HostClassAndTLS(t *testing.T) {
	s := newTestShop(t, func(spec *shopv1.LittleEcomSpec) {
		spec.Ingress = shopv1.IngressSpec{ClassName: "traefik", Host: "shop.example.com", TLSSecretName: "shop-tls"}
	})
	ing := buildOnce(t, s.Ingress()).(*networkingv1.Ingress)
	if got := ptr.Deref(ing.Spec.IngressClassName, ""); got != "traefik" {
		t.Errorf("ingressClassName = %q", got)
	}
	if ing.Spec.Rules[0].Host != "shop.example.com" {
		t.Errorf("host = %q", ing.Spec.Rules[0].Host)
	}
	want := []networkingv1.IngressTLS{{Hosts: []string{"shop.example.com"}, SecretName: "shop-tls"}}
	if !equality.Semantic.DeepEqual(ing.Spec.TLS, want) {
		t.Errorf("TLS = %+v, want %+v", ing.Spec.TLS, want)
	}
}

func TestIngress_KibanaPathWhileKibanaIsExposed(t *testing.T) {
	s := newTestShop(t, func(spec *shopv1.LittleEcomSpec) { spec.Logging.Enabled, spec.Logging.Kibana.Expose = true, true })
	ing := buildOnce(t, s.Ingress()).(*networkingv1.Ingress)
	var got []string
	for _, p := range ing.Spec.Rules[0].HTTP.Paths {
		got = append(got, p.Path+" "+p.Backend.Service.Name+":"+p.Backend.Service.Port.Name)
	}
	want := []string{"/auth shop-auth:http", "/kibana shop-kibana:http", "/ shop-backend:http"}
	if !slices.Equal(got, want) {
		t.Errorf("paths = %v, want %v", got, want)
	}
}

func TestIngress_Disabled(t *testing.T) {
	s := newTestShop(t, func(spec *shopv1.LittleEcomSpec) { spec.Ingress.Enabled = new(false) })
	if s.Ingress().(Optional).Enabled() {
		t.Error("spec.ingress.enabled=false must disable the Ingress")
	}
}

func TestIngress_UpdateIsIdempotentAndKeepsForeignAnnotations(t *testing.T) {
	s := newTestShop(t, func(spec *shopv1.LittleEcomSpec) {
		spec.Ingress.Host = "shop.example.com"
		spec.Ingress.TLSSecretName = "tls"
	})
	b := s.Ingress()
	ing := b.Build().(*networkingv1.Ingress)
	ing.Annotations = map[string]string{
		"cert-manager.io/cluster-issuer":              "letsencrypt",
		AnnotationNginxCORSAllowOrigin:                "https://edited.by.hand",
		"nginx.ingress.kubernetes.io/proxy-body-size": "8m",
	}
	if err := b.Update(ing); err != nil {
		t.Fatal(err)
	}
	if ing.Annotations["cert-manager.io/cluster-issuer"] != "letsencrypt" ||
		ing.Annotations["nginx.ingress.kubernetes.io/proxy-body-size"] != "8m" {
		t.Errorf("foreign annotations lost: %v", ing.Annotations)
	}
	if ing.Annotations[AnnotationNginxCORSAllowOrigin] != "*" {
		t.Errorf("a hand edit of an operator annotation must converge, got %q", ing.Annotations[AnnotationNginxCORSAllowOrigin])
	}
	again := ing.DeepCopy()
	if err := b.Update(again); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(ing, again) {
		t.Error("second Update changed the Ingress")
	}
	if err := b.Update(&corev1.ConfigMap{}); err == nil {
		t.Error("Update accepted a ConfigMap")
	}
}

func TestNginxCORSAnnotations(t *testing.T) {
	tests := []struct {
		name    string
		cors    shopv1.CORSSpec
		want    map[string]string // subset
		wantErr string
	}{
		{name: "explicit origins, in the user's order, with credentials",
			cors: shopv1.CORSSpec{
				AllowOrigins:     []shopv1.Origin{"https://b.example.com", "http://a.example.com:8080"},
				AllowCredentials: true, MaxAge: ptr.To[int32](600),
			},
			want: map[string]string{
				AnnotationNginxCORSAllowOrigin: "https://b.example.com, http://a.example.com:8080",
				AnnotationNginxCORSAllowCreds:  "true",
				AnnotationNginxCORSMaxAge:      "600",
			}},
		{name: "wildcard subdomain origin",
			cors: shopv1.CORSSpec{AllowOrigins: []shopv1.Origin{"https://*.example.com"}},
			want: map[string]string{AnnotationNginxCORSAllowOrigin: "https://*.example.com"}},
		{name: "lists trimmed, empty and duplicate entries dropped",
			cors: shopv1.CORSSpec{
				AllowOrigins: []shopv1.Origin{" https://a.example.com ", "", "HTTPS://A.EXAMPLE.COM"},
				AllowMethods: []shopv1.HTTPMethod{"GET", "GET", "POST"},
				AllowHeaders: []shopv1.HeaderName{"Authorization", "authorization", "X-Request-ID"},
			},
			want: map[string]string{
				AnnotationNginxCORSAllowOrigin:  "https://a.example.com",
				AnnotationNginxCORSAllowMethods: "GET, POST",
				AnnotationNginxCORSAllowHeaders: "Authorization, X-Request-ID",
			}},
		{name: "maxAge zero disables preflight caching",
			cors: shopv1.CORSSpec{MaxAge: ptr.To[int32](0)},
			want: map[string]string{AnnotationNginxCORSMaxAge: "0"}},
		{name: "a header nginx would refuse (or that could inject config) is an error, not rendered",
			cors:    shopv1.CORSSpec{AllowHeaders: []shopv1.HeaderName{"X-$host"}},
			wantErr: `allowHeaders: "X-$host"`},
		{name: "an origin with a quote is an error",
			cors:    shopv1.CORSSpec{AllowOrigins: []shopv1.Origin{`https://a.example.com"; more_set_headers "x`}},
			wantErr: "allowOrigins"},
		{name: "credentials with any origin",
			cors:    shopv1.CORSSpec{AllowCredentials: true},
			wantErr: "allowCredentials needs explicit allowOrigins"},
		{name: "the wildcard mixed with an origin",
			cors:    shopv1.CORSSpec{AllowOrigins: []shopv1.Origin{"*", "https://a.example.com"}},
			wantErr: "cannot be combined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestShop(t, func(spec *shopv1.LittleEcomSpec) { spec.Ingress.CORS = tt.cors })
			ing := s.Ingress().Build()
			err := s.Ingress().Update(ing)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := ing.GetAnnotations()
			if got[AnnotationNginxEnableCORS] != "true" {
				t.Errorf("enable-cors = %q", got[AnnotationNginxEnableCORS])
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}
