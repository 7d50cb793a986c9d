package resource

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/contract"
)

func rmqDefinitionsSecret(t *testing.T, s *Shop, users RabbitMQUsers) *corev1.Secret {
	t.Helper()
	return buildOnce(t, s.RabbitMQDefinitions(users)).(*corev1.Secret)
}

func parseDefinitions(t *testing.T, secret *corev1.Secret) rmqDefinitions {
	t.Helper()
	var d rmqDefinitions
	dec := json.NewDecoder(bytes.NewReader(secret.Data[RabbitMQDefinitionsKey]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("definitions.json does not parse: %v", err)
	}
	return d
}

// verifyRabbitMQHash checks hash the way RabbitMQ does: split off the 4-byte salt, hash
// salt ‖ password, compare.
func verifyRabbitMQHash(hash, password string) error {
	raw, err := base64.StdEncoding.DecodeString(hash)
	if err != nil {
		return err
	}
	if len(raw) != 4+sha256.Size {
		return fmt.Errorf("hash is %d bytes, want %d", len(raw), 4+sha256.Size)
	}
	sum := sha256.Sum256(append(append([]byte{}, raw[:4]...), password...))
	if !bytes.Equal(raw[4:], sum[:]) {
		return fmt.Errorf("hash does not verify the password")
	}
	return nil
}

func TestRabbitMQDefinitions_Secret(t *testing.T) {
	users := rmqTestUsers()
	secret := rmqDefinitionsSecret(t, newTestShop(t, nil), users)
	assertOwned(t, secret, "shop-rabbitmq-definitions", ComponentRabbitMQ)
	if secret.Type != corev1.SecretTypeOpaque || len(secret.Data) != 1 {
		t.Errorf("type %q with %d keys, want Opaque with definitions.json only", secret.Type, len(secret.Data))
	}
	for _, c := range []Credentials{users.Admin, users.Backend, users.Notifier} {
		if bytes.Contains(secret.Data[RabbitMQDefinitionsKey], []byte(c.Password)) {
			t.Errorf("definitions.json contains %s's cleartext password", c.Username)
		}
	}
}

func TestRabbitMQDefinitions_Users(t *testing.T) {
	users := rmqTestUsers()
	d := parseDefinitions(t, rmqDefinitionsSecret(t, newTestShop(t, nil), users))
	want := []struct {
		creds Credentials
		tags  []string
	}{
		{users.Admin, []string{"administrator"}},
		{users.Backend, []string{}},
		{users.Notifier, []string{}},
	}
	if len(d.Users) != len(want) {
		t.Fatalf("users = %+v, want admin, backend, notifier", d.Users)
	}
	for i, w := range want {
		u := d.Users[i]
		if u.Name != w.creds.Username || u.HashingAlgorithm != "rabbit_password_hashing_sha256" ||
			!equality.Semantic.DeepEqual(u.Tags, w.tags) {
			t.Errorf("user %d = %+v, want %s with tags %v", i, u, w.creds.Username, w.tags)
		}
		if err := verifyRabbitMQHash(u.PasswordHash, w.creds.Password); err != nil {
			t.Errorf("user %s: %v", u.Name, err)
		}
		if verifyRabbitMQHash(u.PasswordHash, w.creds.Password+"x") == nil {
			t.Errorf("user %s: hash verifies a wrong password", u.Name)
		}
	}
	if d.Users[1].PasswordHash[:6] == d.Users[2].PasswordHash[:6] {
		t.Error("backend and notifier share a salt")
	}
	if len(d.Vhosts) != 1 || d.Vhosts[0].Name != "/" {
		t.Errorf("vhosts = %+v, want /", d.Vhosts)
	}
}

func TestRabbitMQDefinitions_Permissions(t *testing.T) {
	d := parseDefinitions(t, rmqDefinitionsSecret(t, newTestShop(t, nil), rmqTestUsers()))
	want := []rmqPermission{
		{User: "admin", Vhost: "/", Configure: ".*", Write: ".*", Read: ".*"},
		{User: "backend", Vhost: "/", Configure: `^amq\.gen-.*$`,
			Write: `^(ecom-exchange|ecom-item-changes|amq\.gen-.*)$`, Read: `^(ecom-item-changes|amq\.gen-.*)$`},
		{User: "notifier", Vhost: "/", Configure: "^$", Write: "^(ecom-retry-exchange|ecom-dlx)$", Read: "^ecom-queue-.*$"},
	}
	if !equality.Semantic.DeepEqual(d.Permissions, want) {
		t.Fatalf("permissions = %+v\nwant %+v", d.Permissions, want)
	}

	// What the patterns allow, on the real names of the topology.
	topo := definitionsTopology()
	var exchanges, queues []string
	for _, e := range topo.Exchanges {
		exchanges = append(exchanges, e.Name)
	}
	for _, q := range topo.Queues {
		queues = append(queues, q.Name)
	}
	matches := func(pattern string, names []string) []string {
		var out []string
		for _, n := range names {
			if regexp.MustCompile(pattern).MatchString(n) {
				out = append(out, n)
			}
		}
		return out
	}
	backend, notifier := d.Permissions[1], d.Permissions[2]
	all := append(append([]string{}, exchanges...), queues...)
	// A queue the broker names, as the backend's replicas declare to hear of item writes.
	serverNamed := []string{"amq.gen-JzTY20BRgKO-HjmUJj0wLg"}
	tests := []struct {
		what    string
		pattern string
		names   []string
		want    []string
	}{
		{"backend configures", backend.Configure, all, nil},
		{"backend configures its own queue", backend.Configure, serverNamed, serverNamed},
		{"backend publishes to", backend.Write, all, []string{contract.Exchange, contract.ItemChangesExchange}},
		{"backend binds its own queue", backend.Write, serverNamed, serverNamed},
		{"backend reads", backend.Read, all, []string{contract.ItemChangesExchange}},
		{"backend consumes its own queue", backend.Read, serverNamed, serverNamed},
		{"notifier configures", notifier.Configure, all, nil},
		{"notifier publishes to", notifier.Write, exchanges, []string{contract.DeadLetterExchange, contract.RetryExchange}},
		{"notifier consumes", notifier.Read, queues, queues},
		{"notifier reads from exchanges", notifier.Read, exchanges, nil},
	}
	for _, tt := range tests {
		if got := matches(tt.pattern, tt.names); !equality.Semantic.DeepEqual(got, tt.want) {
			t.Errorf("%s %v, want %v", tt.what, got, tt.want)
		}
	}
}

func TestRabbitMQDefinitions_Topology(t *testing.T) {
	d := parseDefinitions(t, rmqDefinitionsSecret(t, newTestShop(t, nil), rmqTestUsers()))

	exchanges := map[string]rmqExchange{}
	for _, e := range d.Exchanges {
		exchanges[e.Name] = e
	}
	for name, kind := range map[string]string{
		contract.Exchange: "topic", contract.DeadLetterExchange: "fanout", contract.RetryExchange: "headers",
		contract.ItemChangesExchange: "fanout",
	} {
		e, ok := exchanges[name]
		if !ok || e.Type != kind || !e.Durable || e.AutoDelete || e.Internal || e.Vhost != "/" || len(e.Arguments) != 0 {
			t.Errorf("exchange %s = %+v, want durable %s without arguments", name, e, kind)
		}
	}
	if len(d.Exchanges) != 4 {
		t.Errorf("%d exchanges, want 4", len(d.Exchanges))
	}

	// Arguments as JSON numbers and strings, as RabbitMQ imports them.
	queues := map[string]map[string]any{}
	for _, q := range d.Queues {
		if !q.Durable || q.AutoDelete || q.Vhost != "/" {
			t.Errorf("queue %+v, want durable in /", q)
		}
		queues[q.Name] = q.Arguments
	}
	wantQueues := map[string]map[string]any{
		contract.QueueItemAdded:  {"x-dead-letter-exchange": "ecom-dlx"},
		contract.QueueItemBought: {"x-dead-letter-exchange": "ecom-dlx"},
		// Declared in every shop, so the notifier finds it whether verification is on or not.
		contract.QueueAccountVerify: {"x-dead-letter-exchange": "ecom-dlx"},
		contract.QueueDeadLetter:    {},
		"ecom-queue-retry-1s":       {"x-dead-letter-exchange": "ecom-exchange", "x-message-ttl": float64(1000)},
		"ecom-queue-retry-5s":       {"x-dead-letter-exchange": "ecom-exchange", "x-message-ttl": float64(5000)},
		"ecom-queue-retry-30s":      {"x-dead-letter-exchange": "ecom-exchange", "x-message-ttl": float64(30000)},
		"ecom-queue-retry-2m0s":     {"x-dead-letter-exchange": "ecom-exchange", "x-message-ttl": float64(120000)},
	}
	if !equality.Semantic.DeepEqual(queues, wantQueues) {
		t.Errorf("queues and arguments = %v\nwant %v", queues, wantQueues)
	}

	var bindings []string
	for _, b := range d.Bindings {
		if b.DestinationType != "queue" || b.Vhost != "/" {
			t.Errorf("binding %+v, want to a queue in /", b)
		}
		args, _ := json.Marshal(b.Arguments)
		bindings = append(bindings, fmt.Sprintf("%s -[%s %s]-> %s", b.Source, b.RoutingKey, args, b.Destination))
	}
	wantBindings := []string{
		"ecom-dlx -[ {}]-> ecom-queue-dead-letter",
		"ecom-exchange -[ecom.item.add {}]-> ecom-queue-item-added",
		"ecom-exchange -[ecom.item.buy {}]-> ecom-queue-item-bought",
		`ecom-retry-exchange -[ {"retry-queue":"ecom-queue-retry-1s","x-match":"all"}]-> ecom-queue-retry-1s`,
		`ecom-retry-exchange -[ {"retry-queue":"ecom-queue-retry-5s","x-match":"all"}]-> ecom-queue-retry-5s`,
		`ecom-retry-exchange -[ {"retry-queue":"ecom-queue-retry-30s","x-match":"all"}]-> ecom-queue-retry-30s`,
		`ecom-retry-exchange -[ {"retry-queue":"ecom-queue-retry-2m0s","x-match":"all"}]-> ecom-queue-retry-2m0s`,
		"ecom-exchange -[ecom.account.verify {}]-> ecom-queue-account-verify",
	}
	if strings.Join(bindings, "\n") != strings.Join(wantBindings, "\n") {
		t.Errorf("bindings:\n%s\nwant:\n%s", strings.Join(bindings, "\n"), strings.Join(wantBindings, "\n"))
	}
}

func TestRabbitMQDefinitions_DeterministicAcrossBuilds(t *testing.T) {
	users := rmqTestUsers()
	a := rmqDefinitionsSecret(t, newTestShop(t, nil), users)
	b := rmqDefinitionsSecret(t, newTestShop(t, nil), users)
	if !bytes.Equal(a.Data[RabbitMQDefinitionsKey], b.Data[RabbitMQDefinitionsKey]) {
		t.Error("two builds from the same credentials differ")
	}
	users.Notifier.Password = "another-password-another-password"
	c := rmqDefinitionsSecret(t, newTestShop(t, nil), users)
	if bytes.Equal(a.Data[RabbitMQDefinitionsKey], c.Data[RabbitMQDefinitionsKey]) {
		t.Error("a new password did not change the definitions")
	}
}

func TestRabbitMQDefinitions_UpdateIsIdempotent(t *testing.T) {
	assertUpdateIsIdempotent(t, newTestShop(t, nil).RabbitMQDefinitions(rmqTestUsers()))
}

func TestRabbitMQDefinitions_UserSuppliedAdminWins(t *testing.T) {
	s := newTestShop(t, func(s *shopv1.LittleEcomSpec) {
		s.RabbitMQ.CredentialsSecretRef = &shopv1.SecretReference{Name: "my-admin"}
	})
	if got := s.RabbitMQAdminSecretName(); got != "my-admin" {
		t.Fatalf("RabbitMQAdminSecretName() = %q, want the user's Secret", got)
	}
	// The reconciler reads the user's Secret and passes its credentials in.
	mine, err := CredentialsFromSecret(&corev1.Secret{Data: map[string][]byte{"username": []byte("ops"), "password": []byte("ops-password")}})
	if err != nil {
		t.Fatal(err)
	}
	users := rmqTestUsers()
	users.Admin = mine
	d := parseDefinitions(t, rmqDefinitionsSecret(t, s, users))
	if d.Users[0].Name != "ops" || verifyRabbitMQHash(d.Users[0].PasswordHash, "ops-password") != nil ||
		d.Permissions[0].User != "ops" {
		t.Errorf("admin user %+v / permission %+v, want the user-supplied ops", d.Users[0], d.Permissions[0])
	}
}

func TestRabbitMQDefinitions_RefusesIncompleteUsers(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*RabbitMQUsers)
	}{
		{"admin without password", func(u *RabbitMQUsers) { u.Admin.Password = "" }},
		{"backend without username", func(u *RabbitMQUsers) { u.Backend.Username = "" }},
		{"notifier missing", func(u *RabbitMQUsers) { u.Notifier = Credentials{} }},
		{"duplicate usernames", func(u *RabbitMQUsers) { u.Notifier.Username = u.Backend.Username }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			users := rmqTestUsers()
			tt.mutate(&users)
			b := newTestShop(t, nil).RabbitMQDefinitions(users)
			err := b.Update(b.Build())
			if err == nil {
				t.Fatal("Update accepted incomplete users")
			}
			for _, c := range []Credentials{users.Admin, users.Backend, users.Notifier} {
				if c.Password != "" && strings.Contains(err.Error(), c.Password) {
					t.Errorf("error %q reveals a password", err)
				}
			}
		})
	}
}

func TestCredentialsFromSecret(t *testing.T) {
	if _, err := CredentialsFromSecret(&corev1.Secret{Data: map[string][]byte{"username": []byte("u")}}); err == nil {
		t.Error("accepted a Secret without password")
	}
}
