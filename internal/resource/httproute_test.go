package resource

import (
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	shopv1 "littleecom.io/littleecom/api/v1"
)

func gatewayShop(t *testing.T, cors shopv1.CORSSpec) *Shop {
	t.Helper()
	s := newTestShop(t, func(spec *shopv1.LittleEcomSpec) {
		spec.Gateway = &shopv1.GatewaySpec{
			ParentRefs: []shopv1.GatewayParentRef{{Name: "public"}, {Name: "edge", Namespace: "infra", SectionName: "https"}},
			Hostnames:  []string{"shop.example.com"},
		}
		spec.Ingress.CORS = cors
	})
	if err := gatewayv1.Install(s.Scheme); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestHTTPRoute_EnabledOnlyWithSpecGateway(t *testing.T) {
	if newTestShop(t, nil).HTTPRoute().(Optional).Enabled() {
		t.Error("no spec.gateway, no HTTPRoute")
	}
	if !gatewayShop(t, shopv1.CORSSpec{}).HTTPRoute().(Optional).Enabled() {
		t.Error("spec.gateway set, HTTPRoute wanted")
	}
}

func TestHTTPRoute_Content(t *testing.T) {
	s := gatewayShop(t, shopv1.CORSSpec{})
	route := buildOnce(t, s.HTTPRoute()).(*gatewayv1.HTTPRoute)
	assertOwned(t, route, "shop", ComponentGateway)

	wantParents := []gatewayv1.ParentReference{
		{Group: ptr.To[gatewayv1.Group]("gateway.networking.k8s.io"), Kind: ptr.To[gatewayv1.Kind]("Gateway"), Name: "public"},
		{Group: ptr.To[gatewayv1.Group]("gateway.networking.k8s.io"), Kind: ptr.To[gatewayv1.Kind]("Gateway"), Name: "edge",
			Namespace: ptr.To[gatewayv1.Namespace]("infra"), SectionName: ptr.To[gatewayv1.SectionName]("https")},
	}
	if !equality.Semantic.DeepEqual(route.Spec.ParentRefs, wantParents) {
		t.Errorf("parentRefs = %+v", route.Spec.ParentRefs)
	}
	if !equality.Semantic.DeepEqual(route.Spec.Hostnames, []gatewayv1.Hostname{"shop.example.com"}) {
		t.Errorf("hostnames = %v", route.Spec.Hostnames)
	}
	type rule struct {
		prefix, service string
		port            gatewayv1.PortNumber
	}
	var got []rule
	for _, r := range route.Spec.Rules {
		if len(r.Matches) != 1 || *r.Matches[0].Path.Type != gatewayv1.PathMatchPathPrefix || len(r.BackendRefs) != 1 {
			t.Fatalf("rule %+v: want one PathPrefix match and one backend", r)
		}
		be := r.BackendRefs[0]
		if *be.Kind != "Service" || *be.Group != "" || *be.Weight != 1 {
			t.Errorf("backendRef %+v: want a Service with the CRD's defaults spelled out", be)
		}
		if len(r.Filters) != 1 || r.Filters[0].Type != gatewayv1.HTTPRouteFilterCORS || r.Filters[0].CORS == nil {
			t.Errorf("rule %s: filters = %+v, want one CORS filter", *r.Matches[0].Path.Value, r.Filters)
		}
		got = append(got, rule{*r.Matches[0].Path.Value, string(be.Name), *be.Port})
	}
	want := []rule{{"/auth", "shop-auth", 8080}, {"/", "shop-backend", 8080}}
	if !slices.Equal(got, want) {
		t.Errorf("rules = %v, want %v", got, want)
	}
	cors := route.Spec.Rules[0].Filters[0].CORS
	if !equality.Semantic.DeepEqual(cors.AllowOrigins, []gatewayv1.CORSOrigin{"*"}) || *cors.AllowCredentials ||
		cors.MaxAge != 86400 || len(cors.AllowMethods) != 6 || len(cors.AllowHeaders) != 9 {
		t.Errorf("default CORS filter = %+v", cors)
	}
}

func TestHTTPRoute_CORSWithCredentials(t *testing.T) {
	s := gatewayShop(t, shopv1.CORSSpec{
		AllowOrigins:     []shopv1.Origin{"https://shop.example.com", "https://admin.example.com"},
		AllowMethods:     []shopv1.HTTPMethod{"GET", "POST"},
		AllowHeaders:     []shopv1.HeaderName{"Authorization"},
		AllowCredentials: true,
		MaxAge:           ptr.To[int32](0),
	})
	route := buildOnce(t, s.HTTPRoute()).(*gatewayv1.HTTPRoute)
	want := &gatewayv1.HTTPCORSFilter{
		AllowOrigins:     []gatewayv1.CORSOrigin{"https://shop.example.com", "https://admin.example.com"},
		AllowCredentials: new(true),
		AllowMethods:     []gatewayv1.HTTPMethodWithWildcard{"GET", "POST"},
		AllowHeaders:     []gatewayv1.HTTPHeaderName{"Authorization"},
		MaxAge:           1, // Gateway API's minimum; 0 is not expressible
	}
	for _, r := range route.Spec.Rules {
		if !equality.Semantic.DeepEqual(r.Filters[0].CORS, want) {
			t.Errorf("CORS filter = %+v, want %+v", r.Filters[0].CORS, want)
		}
	}
}

func TestHTTPRoute_RefusesCredentialsWithAnyOrigin(t *testing.T) {
	s := gatewayShop(t, shopv1.CORSSpec{AllowCredentials: true})
	b := s.HTTPRoute()
	if err := b.Update(b.Build()); err == nil {
		t.Error("credentials with '*' must not be rendered: the gateway would have to echo any origin")
	}
}

func TestHTTPRoute_UpdateIsIdempotent(t *testing.T) {
	s := gatewayShop(t, shopv1.CORSSpec{})
	b := s.HTTPRoute()
	route := buildOnce(t, b).(*gatewayv1.HTTPRoute)
	route.Labels["team"] = "web"
	again := route.DeepCopy()
	if err := b.Update(again); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(route, again) {
		t.Error("second Update changed the HTTPRoute")
	}
}
