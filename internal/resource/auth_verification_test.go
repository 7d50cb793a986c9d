package resource

import (
	"errors"
	"regexp"
	"slices"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/contract"
)

// verifyingShop is a shop with e-mail verification on and an Ingress host for its links.
func verifyingShop(t *testing.T, mutate func(*shopv1.LittleEcomSpec)) *Shop {
	t.Helper()
	return newTestShop(t, func(spec *shopv1.LittleEcomSpec) {
		spec.Auth.EmailVerification = true
		spec.Ingress.Host = "shop.example.com"
		if mutate != nil {
			mutate(spec)
		}
	})
}

func TestAuthPublicURL(t *testing.T) {
	for _, tt := range []struct {
		name   string
		mutate func(*shopv1.LittleEcomSpec)
		want   string
	}{
		{"ingress host over plain HTTP", nil, "http://shop.example.com"},
		{"ingress host with TLS", func(s *shopv1.LittleEcomSpec) { s.Ingress.TLSSecretName = "shop-tls" }, "https://shop.example.com"},
		{"publicURL wins", func(s *shopv1.LittleEcomSpec) { s.Auth.PublicURL = "https://www.example.com:8443" }, "https://www.example.com:8443"},
		{"publicURL without its trailing slash", func(s *shopv1.LittleEcomSpec) { s.Auth.PublicURL = "https://www.example.com/" }, "https://www.example.com"},
		{"wildcard host", func(s *shopv1.LittleEcomSpec) { s.Ingress.Host = "*.example.com" }, ""},
		{"no host", func(s *shopv1.LittleEcomSpec) { s.Ingress.Host = "" }, ""},
		{"ingress disabled", func(s *shopv1.LittleEcomSpec) { s.Ingress.Enabled = new(false) }, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := verifyingShop(t, tt.mutate).AuthPublicURL(); got != tt.want {
				t.Errorf("AuthPublicURL() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestServiceConfigMap_EmailVerification(t *testing.T) {
	auth := svcConfigMap(t, verifyingShop(t, func(s *shopv1.LittleEcomSpec) { s.Ingress.TLSSecretName = "shop-tls" }), ComponentAuth).Data
	for k, want := range map[string]string{
		contract.EnvAuthEmailVerification: "true",
		contract.EnvAuthPublicURL:         "https://shop.example.com",
		contract.EnvAMQPURL:               svcAMQPURL,
	} {
		if auth[k] != want {
			t.Errorf("%s = %q, want %q", k, auth[k], want)
		}
	}

	// Off (the default), auth has no broker settings at all.
	off := svcConfigMap(t, newTestShop(t, nil), ComponentAuth).Data
	for _, k := range []string{contract.EnvAuthPublicURL, contract.EnvAMQPURL} {
		if v, ok := off[k]; ok {
			t.Errorf("verification off, yet %s=%q", k, v)
		}
	}

	// Without a public URL (a CRD without its rules let it through) the builder refuses
	// rather than mail links that lead nowhere.
	b := verifyingShop(t, func(s *shopv1.LittleEcomSpec) { s.Ingress.Host = "" }).ServiceConfigMap(ComponentAuth)
	if err := b.Update(b.Build()); !errors.Is(err, errNoPublicURL) {
		t.Errorf("Update without a public URL = %v, want errNoPublicURL", err)
	}
}

func TestServiceDeployment_AuthBrokerUserOnlyWithVerification(t *testing.T) {
	env := svcDeployment(t, verifyingShop(t, nil), ComponentAuth).Spec.Template.Spec.Containers[0].Env
	assertSvcSecretEnv(t, env,
		[]string{contract.EnvMongoUsername, contract.EnvMongoPassword, contract.EnvAMQPUsername, contract.EnvAMQPPassword,
			contract.EnvAuthSigningKey},
		[]secretRef{{"shop-mongodb-auth", "username"}, {"shop-mongodb-auth", "password"},
			{"shop-rabbitmq-auth", "username"}, {"shop-rabbitmq-auth", "password"},
			{"shop-auth-signing-key", contract.SecretKeySigningKey}})
	if in := verifyingShop(t, nil).ConfigInputs(ComponentAuth); !slices.Contains(in.Secrets, "shop-rabbitmq-auth") {
		t.Errorf("config inputs %v miss auth's broker Secret", in.Secrets)
	}

	for _, e := range svcDeployment(t, newTestShop(t, nil), ComponentAuth).Spec.Template.Spec.Containers[0].Env {
		if e.Name == contract.EnvAMQPUsername || e.Name == contract.EnvAMQPPassword {
			t.Errorf("verification off, yet auth reads %s", e.Name)
		}
	}
}

func TestRabbitMQNetworkPolicy_AdmitsAuthOnlyWithVerification(t *testing.T) {
	for _, tt := range []struct {
		shop *Shop
		want bool
	}{{newTestShop(t, nil), false}, {verifyingShop(t, nil), true}} {
		np := buildOnce(t, tt.shop.RabbitMQNetworkPolicy()).(*networkingv1.NetworkPolicy)
		got := peers(np)
		if _, ok := got[ComponentAuth]; ok != tt.want {
			t.Errorf("verification %v: auth admitted %v, want %v (peers %v)", tt.shop.EmailVerification(), ok, tt.want, got)
		}
		if _, ok := got[ComponentBackend]; !ok {
			t.Errorf("backend not admitted: %v", got)
		}
	}
}

// Auth's broker user may publish to the shop's exchange and nothing else, and exists only
// with verification (RabbitMQUsers.Auth set).
func TestRabbitMQDefinitions_AuthUser(t *testing.T) {
	users := rmqTestUsers()
	if d := parseDefinitions(t, rmqDefinitionsSecret(t, newTestShop(t, nil), users)); len(d.Users) != 3 || len(d.Permissions) != 3 {
		t.Errorf("without verification: users %d, permissions %d, want 3 and 3", len(d.Users), len(d.Permissions))
	}

	users.Auth = &Credentials{Username: "auth", Password: "AuthSecretAuthSecretAuthSecretAu"}
	d := parseDefinitions(t, rmqDefinitionsSecret(t, verifyingShop(t, nil), users))
	if len(d.Users) != 4 || d.Users[3].Name != "auth" || verifyRabbitMQHash(d.Users[3].PasswordHash, users.Auth.Password) != nil {
		t.Fatalf("users = %+v, want auth's fourth with its password's hash", d.Users)
	}
	want := rmqPermission{User: "auth", Vhost: "/", Configure: "^$", Write: "^ecom-exchange$", Read: "^$"}
	if len(d.Permissions) != 4 || d.Permissions[3] != want {
		t.Fatalf("permissions = %+v, want auth's %+v", d.Permissions, want)
	}
	topo := definitionsTopology()
	for _, e := range topo.Exchanges {
		if regexp.MustCompile(want.Write).MatchString(e.Name) != (e.Name == contract.Exchange) {
			t.Errorf("auth's write pattern on exchange %s", e.Name)
		}
	}

	users.Auth.Username = "backend"
	if _, err := rabbitMQDefinitionsJSON(users); err == nil {
		t.Error("auth sharing the backend's username was accepted")
	}
	users.Auth = &Credentials{Username: "auth"}
	if _, err := rabbitMQDefinitionsJSON(users); err == nil {
		t.Error("auth without a password was accepted")
	}
}
