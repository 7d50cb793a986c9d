package devstack

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"littleecom.io/littleecom/internal/contract"
)

func TestResolveEnv_AsTheKubeletDoes(t *testing.T) {
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "shop-backend"}}
	dep.Spec.Template.Spec.Containers = []corev1.Container{{
		Name:    "backend",
		EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}}},
		Env: []corev1.EnvVar{
			{Name: "LOG_LEVEL", Value: "debug"}, // env wins over envFrom
			{Name: "AMQP_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "amqp"}, Key: "password"}}},
		},
	}}
	objs := objects{
		configMaps: map[string]*corev1.ConfigMap{"cm": {Data: map[string]string{"LOG_LEVEL": "info", "HTTP_ADDR": ":8080"}}},
		secrets:    map[string]*corev1.Secret{"amqp": {Data: map[string][]byte{"password": []byte("pw")}}},
	}
	env, err := resolveEnv(dep, "backend", objs)
	if err != nil {
		t.Fatal(err)
	}
	if env["LOG_LEVEL"] != "debug" || env["HTTP_ADDR"] != ":8080" || env["AMQP_PASSWORD"] != "pw" {
		t.Fatalf("env = %v", env)
	}
	delete(objs.secrets, "amqp")
	if _, err := resolveEnv(dep, "backend", objs); err == nil {
		t.Fatal("a missing Secret must be an error, as it keeps a pod from starting")
	}
}

func TestMapEnv_MapsEveryInClusterEndpoint(t *testing.T) {
	in := map[string]string{
		contract.EnvHTTPAddr:      ":8080",
		contract.EnvLogFormat:     "json",
		contract.EnvMongoURI:      "mongodb://shop-mongodb-0.shop-mongodb-headless.ns.svc.cluster.local:27017/?replicaSet=rs0",
		contract.EnvMongoUsername: "backend",
		contract.EnvMongoPassword: "secret",
		contract.EnvAMQPURL:       "amqp://shop-rabbitmq.ns.svc.cluster.local:5672/",
		contract.EnvAMQPUsername:  "backend",
		contract.EnvAMQPPassword:  "amqp-secret",
		contract.EnvAuthJWKSURL:   "http://shop-auth.ns.svc.cluster.local:8080" + contract.PathJWKS,
		contract.EnvSMTPHost:      "",
		contract.EnvSMTPPort:      "587",
		contract.EnvCORSEnabled:   "false",
	}
	out, ms := mapEnv(in, localEndpoints{MongoURI: "mongodb://127.0.0.1:1/?directConnection=true", AMQPAddr: "127.0.0.1:5672", VHost: "dev",
		UserPrefix: "dev-", SMTPHost: "127.0.0.1", SMTPPort: 2525, AuthAddr: "127.0.0.1:3", HTTPAddr: "127.0.0.1:4", ManagementAddr: "127.0.0.1:5"})
	want := map[string]string{
		contract.EnvHTTPAddr:       "127.0.0.1:4",
		contract.EnvManagementAddr: "127.0.0.1:5",
		contract.EnvLogFormat:      "text",
		contract.EnvMongoURI:       "mongodb://127.0.0.1:1/?directConnection=true",
		contract.EnvAMQPURL:        "amqp://127.0.0.1:5672/dev",
		contract.EnvAMQPUsername:   "dev-backend",
		contract.EnvAMQPPassword:   "amqp-secret", // the operator's password, unchanged
		contract.EnvAuthJWKSURL:    "http://127.0.0.1:3" + contract.PathJWKS,
		contract.EnvSMTPHost:       "127.0.0.1",
		contract.EnvSMTPPort:       "2525",
		contract.EnvCORSEnabled:    "false", // the gateway answers CORS
	}
	for k, v := range want {
		if out[k] != v {
			t.Errorf("%s = %q, want %q", k, out[k], v)
		}
	}
	for _, k := range []string{contract.EnvMongoUsername, contract.EnvMongoPassword, contract.EnvSMTPUsername, contract.EnvSMTPPassword} {
		if _, ok := out[k]; ok {
			t.Errorf("%s is still set; neither FerretDB v1 nor the sink checks it", k)
		}
	}
	if left := inClusterLeftovers(out); len(left) != 0 {
		t.Errorf("still in-cluster: %v", left)
	}
	for _, m := range ms {
		if m.Why == "" {
			t.Errorf("mapping of %s has no reason", m.Name)
		}
	}
	if !slices.ContainsFunc(ms, func(m Mapping) bool { return m.Name == contract.EnvMongoPassword }) {
		t.Error("dropping the MongoDB password is not reported")
	}
}

// TestMapEnv_KeepsAnExternalDatabase: a shop with spec.mongodb.external runs against its
// own database; the runner stands in only for the operator's replica set.
func TestMapEnv_KeepsAnExternalDatabase(t *testing.T) {
	in := map[string]string{
		contract.EnvMongoURI:      "mongodb+srv://shop:pw@cluster0.example.net/?retryWrites=true",
		contract.EnvMongoUsername: "shop",
		contract.EnvMongoPassword: "secret",
	}
	out, ms := mapEnv(in, localEndpoints{MongoURI: "mongodb://127.0.0.1:1/?directConnection=true", HTTPAddr: "127.0.0.1:4"})
	for k, v := range in {
		if out[k] != v {
			t.Errorf("%s = %q, want the external database's %q", k, out[k], v)
		}
	}
	for _, m := range ms {
		if strings.HasPrefix(m.Name, "MONGODB_") {
			t.Errorf("%s was mapped (%s -> %s); a mapping is logged, and the URI may hold credentials", m.Name, m.From, m.To)
		}
	}
}

func TestRewriteDefinitions_MovesToVhostAndRenamesUsers(t *testing.T) {
	in := `{"users":[{"name":"backend","password_hash":"h","tags":[]}],"vhosts":[{"name":"/"}],
		"permissions":[{"user":"backend","vhost":"/","configure":"^$","write":"^ecom-exchange$","read":"^$"}],
		"exchanges":[{"name":"ecom-exchange","vhost":"/","type":"topic"}],
		"queues":[{"name":"q","vhost":"/"}],"bindings":[{"source":"ecom-exchange","vhost":"/","destination":"q"}]}`
	out, users, err := rewriteDefinitions([]byte(in), "dev", "dev-")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Users       []map[string]any `json:"users"`
		Vhosts      []map[string]any `json:"vhosts"`
		Permissions []map[string]any `json:"permissions"`
		Exchanges   []map[string]any `json:"exchanges"`
		Queues      []map[string]any `json:"queues"`
		Bindings    []map[string]any `json:"bindings"`
	}
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(users, []string{"dev-backend"}) || d.Users[0]["name"] != "dev-backend" || d.Users[0]["password_hash"] != "h" {
		t.Errorf("users = %v %v", users, d.Users)
	}
	p := d.Permissions[0]
	if p["user"] != "dev-backend" || p["vhost"] != "dev" || p["configure"] != "^$" || p["write"] != "^ecom-exchange$" {
		t.Errorf("permission = %v, want the operator's patterns on the dev vhost", p)
	}
	for _, list := range [][]map[string]any{d.Exchanges, d.Queues, d.Bindings} {
		if list[0]["vhost"] != "dev" {
			t.Errorf("vhost not rewritten: %v", list[0])
		}
	}
	if d.Vhosts[0]["name"] != "dev" {
		t.Errorf("vhosts = %v", d.Vhosts)
	}
}
