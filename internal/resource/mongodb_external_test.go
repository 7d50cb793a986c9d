package resource

import (
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/contract"
)

// externalShop is a shop whose database is the MongoDB in Secret "atlas".
func externalShop(t *testing.T, uriKey string) *Shop {
	t.Helper()
	return newTestShop(t, func(spec *shopv1.LittleEcomSpec) {
		spec.MongoDB.External = &shopv1.ExternalMongoDBSpec{SecretRef: shopv1.SecretReference{Name: "atlas"}, URIKey: uriKey}
		spec.Notifier.SMTP.CredentialsSecretRef = &shopv1.SecretReference{Name: "relay"}
	})
}

// TestServiceDeployment_ExternalMongoDB: every service reads the URI, and the username and
// password when the Secret has them, from the user's Secret; none reads a generated MongoDB
// user.
func TestServiceDeployment_ExternalMongoDB(t *testing.T) {
	for _, tt := range []struct{ uriKey, wantKey string }{
		{"", contract.SecretKeyURI},
		{"connectionString.standardSrv", "connectionString.standardSrv"},
	} {
		s := externalShop(t, tt.uriKey)
		for _, component := range svcComponents {
			t.Run(component+"/"+tt.wantKey, func(t *testing.T) {
				env := svcDeployment(t, s, component).Spec.Template.Spec.Containers[0].Env
				want := []struct {
					name, key string
					optional  bool
				}{
					{contract.EnvMongoURI, tt.wantKey, false},
					{contract.EnvMongoUsername, contract.SecretKeyUsername, true},
					{contract.EnvMongoPassword, contract.SecretKeyPassword, true},
				}
				for i, w := range want {
					e := env[i]
					if e.Name != w.name || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
						t.Fatalf("env[%d] = %+v, want %s from Secret atlas", i, e, w.name)
					}
					ref := e.ValueFrom.SecretKeyRef
					if ref.Name != "atlas" || ref.Key != w.key || (ref.Optional != nil && *ref.Optional) != w.optional {
						t.Errorf("%s from %s[%s] optional=%v, want atlas[%s] optional=%v",
							e.Name, ref.Name, ref.Key, ref.Optional, w.key, w.optional)
					}
				}
				for _, e := range env {
					if ref := e.ValueFrom.SecretKeyRef; ref.Name == "shop-mongodb-"+component {
						t.Errorf("%s reads the generated MongoDB user of an external shop", e.Name)
					}
				}
			})
		}
	}
}

// TestServiceConfigMap_ExternalMongoDB: the URI (it may carry credentials) is not in the
// ConfigMap; the databases and the auth source of separate credentials stay.
func TestServiceConfigMap_ExternalMongoDB(t *testing.T) {
	s := externalShop(t, "")
	for _, component := range svcComponents {
		data := svcConfigMap(t, s, component).Data
		if v, ok := data[contract.EnvMongoURI]; ok {
			t.Errorf("%s: ConfigMap has %s=%q, want it only from the Secret", component, contract.EnvMongoURI, v)
		}
		if data[contract.EnvMongoDatabase] != DatabaseOf(component) || data[contract.EnvMongoAuthSource] != "admin" {
			t.Errorf("%s: database %q auth source %q", component, data[contract.EnvMongoDatabase], data[contract.EnvMongoAuthSource])
		}
	}
}

// TestConfigInputs_ExternalMongoDB: the external Secret is an input of every service (a
// change rolls them), the generated users are not; there is no MongoDB workload to feed.
func TestConfigInputs_ExternalMongoDB(t *testing.T) {
	s := externalShop(t, "")
	for _, component := range svcComponents {
		in := s.ConfigInputs(component)
		if !slices.Contains(in.Secrets, "atlas") || slices.Contains(in.Secrets, "shop-mongodb-"+component) {
			t.Errorf("%s inputs %v, want atlas and not the generated user", component, in.Secrets)
		}
	}
	if in := s.ConfigInputs(ComponentMongoDB); len(in.Secrets)+len(in.ConfigMaps) != 0 {
		t.Errorf("MongoDB inputs = %+v, want none", in)
	}
	if got := UserSecretNames(s.Instance); !slices.Equal(got, []string{"atlas", "relay"}) {
		t.Errorf("UserSecretNames = %v, want the external Secret watched too", got)
	}
}

// TestServiceDeployment_ExternalReadsOnlyItsConfigInputs: as for the in-cluster database,
// every Secret a service reads is an input of its checksum.
func TestServiceDeployment_ExternalReadsOnlyItsConfigInputs(t *testing.T) {
	s := externalShop(t, "uri")
	for _, component := range svcComponents {
		in := s.ConfigInputs(component)
		for _, e := range svcDeployment(t, s, component).Spec.Template.Spec.Containers[0].Env {
			if !slices.Contains(in.Secrets, e.ValueFrom.SecretKeyRef.Name) {
				t.Errorf("%s reads Secret %s, not in its config inputs %v", component, e.ValueFrom.SecretKeyRef.Name, in.Secrets)
			}
		}
	}
}

func TestServiceDeployment_ExternalUpdateIsIdempotent(t *testing.T) {
	s := externalShop(t, "")
	for _, component := range svcComponents {
		b := s.ServiceDeployment(component)
		dep := buildOnce(t, b).(*appsv1.Deployment)
		again := dep.DeepCopy()
		if err := b.Update(again); err != nil {
			t.Fatal(err)
		}
		if !equality.Semantic.DeepEqual(dep, again) {
			t.Errorf("%s: second Update changed the Deployment", component)
		}
	}
}
