package resource

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/contract"
)

const (
	svcURI3 = "mongodb://shop-mongodb-0.shop-mongodb-headless.ns.svc.cluster.local:27017," +
		"shop-mongodb-1.shop-mongodb-headless.ns.svc.cluster.local:27017," +
		"shop-mongodb-2.shop-mongodb-headless.ns.svc.cluster.local:27017/?replicaSet=rs0&authSource=admin"
	svcAMQPURL = "amqp://shop-rabbitmq.ns.svc.cluster.local:5672/"
	svcJWKSURL = "http://shop-auth.ns.svc.cluster.local:8080/auth/.well-known/jwks.json"
)

func svcConfigMap(t *testing.T, s *Shop, component string) *corev1.ConfigMap {
	t.Helper()
	return buildOnce(t, s.ServiceConfigMap(component)).(*corev1.ConfigMap)
}

// TestServiceConfigMap_DefaultShop pins every key and value of spec: {} for each service.
func TestServiceConfigMap_DefaultShop(t *testing.T) {
	common := map[string]string{
		contract.EnvHTTPAddr:        ":8080",
		contract.EnvManagementAddr:  ":8081",
		contract.EnvLogFormat:       "json",
		contract.EnvLogLevel:        "info",
		contract.EnvMongoURI:        svcURI3,
		contract.EnvMongoAuthSource: "admin",
		contract.EnvCORSEnabled:     "false", // the default Ingress answers CORS
	}
	with := func(extra map[string]string) map[string]string {
		out := maps.Clone(common)
		maps.Copy(out, extra)
		return out
	}
	tests := []struct {
		component string
		want      map[string]string
	}{
		{ComponentBackend, with(map[string]string{
			contract.EnvMongoDatabase: contract.DatabaseBackend,
			contract.EnvAMQPURL:       svcAMQPURL,
			contract.EnvAuthJWKSURL:   svcJWKSURL,
			contract.EnvAuthIssuer:    contract.DefaultIssuer,
			contract.EnvAuthAudience:  contract.DefaultAudience,
			contract.EnvItemCacheTTL:  "1s",
			contract.EnvItemCacheSize: "10000",
		})},
		{ComponentAuth, with(map[string]string{
			contract.EnvMongoDatabase:         contract.DatabaseAuth,
			contract.EnvAuthIssuer:            contract.DefaultIssuer,
			contract.EnvAuthAudience:          contract.DefaultAudience,
			contract.EnvAuthAccessTokenTTL:    "15m0s",
			contract.EnvAuthRefreshTokenTTL:   "720h0m0s",
			contract.EnvTrustedProxies:        "",
			contract.EnvAuthEmailVerification: "false",
		})},
		{ComponentNotifier, with(map[string]string{
			contract.EnvMongoDatabase: contract.DatabaseNotifier,
			contract.EnvAMQPURL:       svcAMQPURL,
			contract.EnvSMTPHost:      "",
			contract.EnvSMTPPort:      "587",
			contract.EnvSMTPFrom:      "LittleEcom <no-reply@littleecom.local>",
			contract.EnvSMTPStartTLS:  contract.SMTPStartTLSIfAvailable,
		})},
	}
	for _, tt := range tests {
		t.Run(tt.component, func(t *testing.T) {
			cm := svcConfigMap(t, newTestShop(t, nil), tt.component)
			assertOwned(t, cm, "shop-"+tt.component, tt.component)
			for _, k := range slices.Sorted(maps.Keys(tt.want)) {
				if got, ok := cm.Data[k]; !ok || got != tt.want[k] {
					t.Errorf("%s = %q (present %v), want %q", k, got, ok, tt.want[k])
				}
			}
			for _, k := range slices.Sorted(maps.Keys(cm.Data)) {
				if _, ok := tt.want[k]; !ok {
					t.Errorf("unexpected key %s=%q", k, cm.Data[k])
				}
			}
			// Hosts and options only: nothing that looks like user:password@.
			for k, v := range cm.Data {
				if strings.Contains(v, "@") && k != contract.EnvSMTPFrom {
					t.Errorf("%s=%q carries credentials", k, v)
				}
			}
		})
	}
}

// The backend's item cache follows spec.backend.itemCache; a size of 0 is off, not the
// default.
func TestServiceConfigMap_ItemCache(t *testing.T) {
	for _, tt := range []struct {
		ttl      *metav1.Duration
		size     *int32
		wantTTL  string
		wantSize string
	}{
		{nil, nil, "1s", "10000"},
		{&metav1.Duration{Duration: 5 * time.Second}, ptr.To[int32](500), "5s", "500"},
		{&metav1.Duration{}, ptr.To[int32](0), "0s", "0"},
	} {
		s := newTestShop(t, func(spec *shopv1.LittleEcomSpec) {
			spec.Backend.ItemCache = shopv1.ItemCacheSpec{TTL: tt.ttl, Size: tt.size}
		})
		cm := svcConfigMap(t, s, ComponentBackend)
		if got := cm.Data[contract.EnvItemCacheTTL]; got != tt.wantTTL {
			t.Errorf("ttl %v: %s=%q, want %q", tt.ttl, contract.EnvItemCacheTTL, got, tt.wantTTL)
		}
		if got := cm.Data[contract.EnvItemCacheSize]; got != tt.wantSize {
			t.Errorf("size %v: %s=%q, want %q", tt.size, contract.EnvItemCacheSize, got, tt.wantSize)
		}
	}
}

// TestServiceConfigMap_NoSecretValue fills every secret the services use with a known value
// and checks it appears nowhere in a ConfigMap: they travel by secretKeyRef only.
func TestServiceConfigMap_NoSecretValue(t *testing.T) {
	s := newTestShop(t, func(spec *shopv1.LittleEcomSpec) {
		spec.Notifier.SMTP.CredentialsSecretRef = &shopv1.SecretReference{Name: "relay"}
		spec.Notifier.SMTP.Host = "smtp.example.com"
	})
	for _, component := range svcComponents {
		for k, v := range svcConfigMap(t, s, component).Data {
			if strings.Contains(strings.ToUpper(k), "PASSWORD") || strings.Contains(strings.ToUpper(k), "SIGNING_KEY") ||
				strings.Contains(v, "relay") {
				t.Errorf("%s ConfigMap holds secret material: %s=%q", component, k, v)
			}
		}
	}
}

func TestMongoDBURI_SeedsTheFirstThreeMembers(t *testing.T) {
	for _, tt := range []struct {
		replicas int32
		rsName   string
		seeds    int
	}{{1, "", 1}, {3, "rs0", 3}, {5, "shop-rs", 3}, {7, "", 3}} {
		s := newTestShop(t, func(spec *shopv1.LittleEcomSpec) {
			spec.MongoDB.Replicas = new(tt.replicas)
			spec.MongoDB.ReplicaSetName = tt.rsName
		})
		uri := s.MongoDBURI()
		hosts := make([]string, tt.seeds)
		for i := range hosts {
			hosts[i] = s.Names.MongoDBMemberHost(i)
		}
		want := "mongodb://" + strings.Join(hosts, ",") + "/?replicaSet=" + stringOr(tt.rsName, "rs0") + "&authSource=admin"
		if uri != want {
			t.Errorf("replicas %d: URI = %q, want %q", tt.replicas, uri, want)
		}
		if strings.Contains(uri, "@") {
			t.Errorf("URI %q carries credentials", uri)
		}
		for _, component := range svcComponents {
			if got := svcConfigMap(t, s, component).Data[contract.EnvMongoURI]; got != uri {
				t.Errorf("%s %s = %q, want %q", component, contract.EnvMongoURI, got, uri)
			}
		}
	}
	if got := newTestShop(t, nil).MongoDBURI(); got != svcURI3 {
		t.Errorf("default URI = %q, want %q", got, svcURI3)
	}
}

// TestServiceConfigMap_CORS: CORS is answered in exactly one place — the edge when there is
// one, otherwise the services' own middleware with spec.ingress.cors.
func TestServiceConfigMap_CORS(t *testing.T) {
	defaults := map[string]string{
		contract.EnvCORSEnabled:          "true",
		contract.EnvCORSAllowOrigins:     "*",
		contract.EnvCORSAllowMethods:     "GET,PUT,POST,DELETE,PATCH,OPTIONS",
		contract.EnvCORSAllowHeaders:     "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization",
		contract.EnvCORSAllowCredentials: "false",
		contract.EnvCORSMaxAge:           "86400",
	}
	off := map[string]string{contract.EnvCORSEnabled: "false"}
	gateway := &shopv1.GatewaySpec{ParentRefs: []shopv1.GatewayParentRef{{Name: "gw"}}}
	tests := []struct {
		name   string
		mutate func(*shopv1.LittleEcomSpec)
		want   map[string]string
	}{
		{"ingress defaulted on", nil, off},
		{"ingress explicitly on", func(s *shopv1.LittleEcomSpec) { s.Ingress.Enabled = new(true) }, off},
		{"ingress off, gateway set", func(s *shopv1.LittleEcomSpec) {
			s.Ingress.Enabled = new(false)
			s.Gateway = gateway
		}, off},
		{"ingress off, no gateway: CRD defaults", func(s *shopv1.LittleEcomSpec) { s.Ingress.Enabled = new(false) }, defaults},
		{"ingress off, no gateway: user policy in the user's order", func(s *shopv1.LittleEcomSpec) {
			s.Ingress.Enabled = new(false)
			s.Ingress.CORS = shopv1.CORSSpec{
				AllowOrigins:     []shopv1.Origin{"https://shop.example.com", "https://admin.example.com"},
				AllowMethods:     []shopv1.HTTPMethod{"POST", "GET"},
				AllowHeaders:     []shopv1.HeaderName{"Content-Type", "Authorization"},
				AllowCredentials: true,
				MaxAge:           ptr.To[int32](600),
			}
		}, map[string]string{
			contract.EnvCORSEnabled:          "true",
			contract.EnvCORSAllowOrigins:     "https://shop.example.com,https://admin.example.com",
			contract.EnvCORSAllowMethods:     "POST,GET",
			contract.EnvCORSAllowHeaders:     "Content-Type,Authorization",
			contract.EnvCORSAllowCredentials: "true",
			contract.EnvCORSMaxAge:           "600",
		}},
		{"maxAge 0 is kept, not defaulted", func(s *shopv1.LittleEcomSpec) {
			s.Ingress.Enabled = new(false)
			s.Ingress.CORS.MaxAge = ptr.To[int32](0)
		}, func() map[string]string {
			m := maps.Clone(defaults)
			m[contract.EnvCORSMaxAge] = "0"
			return m
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestShop(t, tt.mutate)
			for _, component := range svcComponents {
				got := map[string]string{}
				for k, v := range svcConfigMap(t, s, component).Data {
					if strings.HasPrefix(k, "CORS_") {
						got[k] = v
					}
				}
				if !equality.Semantic.DeepEqual(got, tt.want) {
					t.Errorf("%s: CORS env = %v, want %v", component, got, tt.want)
				}
			}
		})
	}
}

func TestServiceConfigMap_SpecValues(t *testing.T) {
	s := newTestShop(t, func(spec *shopv1.LittleEcomSpec) {
		spec.Auth.AccessTokenTTL = &metav1.Duration{Duration: 10 * time.Minute}
		spec.Auth.RefreshTokenTTL = &metav1.Duration{Duration: 36 * time.Hour}
		spec.Notifier.SMTP = shopv1.SMTPSpec{Host: "smtp.example.com", Port: 2525, From: "shop@example.com",
			StartTLS: shopv1.StartTLS(contract.SMTPStartTLSAlways)}
	})
	auth := svcConfigMap(t, s, ComponentAuth).Data
	notifier := svcConfigMap(t, s, ComponentNotifier).Data
	for _, c := range []struct{ got, want string }{
		{auth[contract.EnvAuthAccessTokenTTL], "10m0s"},
		{auth[contract.EnvAuthRefreshTokenTTL], "36h0m0s"},
		{notifier[contract.EnvSMTPHost], "smtp.example.com"},
		{notifier[contract.EnvSMTPPort], "2525"},
		{notifier[contract.EnvSMTPFrom], "shop@example.com"},
		{notifier[contract.EnvSMTPStartTLS], contract.SMTPStartTLSAlways},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	for _, key := range []string{auth[contract.EnvAuthAccessTokenTTL], auth[contract.EnvAuthRefreshTokenTTL]} {
		if _, err := time.ParseDuration(key); err != nil {
			t.Errorf("TTL %q is not a Go duration: %v", key, err)
		}
	}
}

// Issue 12: with relay credentials the notifier refuses a relay without STARTTLS unless the
// user chose otherwise, so a password never crosses the network in the clear.
func TestServiceConfigMap_StartTLSDefaultsToAlwaysWithCredentials(t *testing.T) {
	relay := &shopv1.SecretReference{Name: "relay"}
	for _, tt := range []struct {
		name string
		smtp shopv1.SMTPSpec
		want string
	}{
		{"no credentials", shopv1.SMTPSpec{Host: "smtp.example.com"}, contract.SMTPStartTLSIfAvailable},
		{"credentials", shopv1.SMTPSpec{Host: "smtp.example.com", CredentialsSecretRef: relay}, contract.SMTPStartTLSAlways},
		{"credentials, chosen IfAvailable", shopv1.SMTPSpec{Host: "smtp.example.com", CredentialsSecretRef: relay,
			StartTLS: shopv1.StartTLS(contract.SMTPStartTLSIfAvailable)}, contract.SMTPStartTLSIfAvailable},
		{"no credentials, chosen Never", shopv1.SMTPSpec{Host: "smtp.example.com",
			StartTLS: shopv1.StartTLS(contract.SMTPStartTLSNever)}, contract.SMTPStartTLSNever},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestShop(t, func(spec *shopv1.LittleEcomSpec) { spec.Notifier.SMTP = tt.smtp })
			if got := svcConfigMap(t, s, ComponentNotifier).Data[contract.EnvSMTPStartTLS]; got != tt.want {
				t.Errorf("%s = %q, want %q", contract.EnvSMTPStartTLS, got, tt.want)
			}
		})
	}
}

func TestServiceConfigMap_UpdateIsIdempotentAndConverges(t *testing.T) {
	for _, component := range svcComponents {
		t.Run(component, func(t *testing.T) {
			b := newTestShop(t, nil).ServiceConfigMap(component)
			cm := buildOnce(t, b).(*corev1.ConfigMap)
			again := cm.DeepCopy()
			if err := b.Update(again); err != nil {
				t.Fatal(err)
			}
			if !equality.Semantic.DeepEqual(cm, again) {
				t.Error("second Update changed the ConfigMap")
			}
			// A hand edit is undone, a stray key removed, a user's extra label kept.
			again.Data[contract.EnvLogLevel] = "debug"
			again.Data["EXTRA"] = "x"
			again.Labels["team"] = "shop"
			if err := b.Update(again); err != nil {
				t.Fatal(err)
			}
			if !equality.Semantic.DeepEqual(cm.Data, again.Data) || again.Labels["team"] != "shop" {
				t.Errorf("Update did not converge: data %v labels %v", again.Data, again.Labels)
			}
		})
	}
}

func TestServiceBuilders_RejectUnknownComponent(t *testing.T) {
	s := newTestShop(t, nil)
	for _, b := range []Builder{s.ServiceConfigMap("frontend"), s.ServiceDeployment("frontend")} {
		if err := b.Update(b.Build()); err == nil {
			t.Errorf("%T accepted component frontend", b)
		}
	}
}

func TestServiceConfigMap_AuthTrustsTheConfiguredProxies(t *testing.T) {
	s := newTestShop(t, func(spec *shopv1.LittleEcomSpec) {
		spec.Auth.TrustedProxies = []string{"10.0.0.0/8", "192.168.0.0/16"}
	})
	cm := svcConfigMap(t, s, ComponentAuth)
	if got := cm.Data[contract.EnvTrustedProxies]; got != "10.0.0.0/8,192.168.0.0/16" {
		t.Errorf("%s = %q", contract.EnvTrustedProxies, got)
	}
}
