package resource

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"littleecom.io/littleecom/internal/contract"
)

// RabbitMQDefinitionsKey is the key of definitions.json in the definitions Secret.
const RabbitMQDefinitionsKey = "definitions.json"

// Credentials are a username and password read from a Secret.
type Credentials struct {
	Username, Password string
}

// RabbitMQUsers are the broker's users: the administrator and one least-privilege user per
// service that talks AMQP. Auth talks AMQP only when it verifies addresses; its user exists
// only then (a nil Auth).
type RabbitMQUsers struct {
	Admin, Backend, Notifier Credentials
	Auth                     *Credentials
}

// CredentialsOf reads the username and password keys of a Secret's data; a missing key
// reads as empty.
func CredentialsOf(data map[string][]byte) Credentials {
	return Credentials{
		Username: string(data[contract.SecretKeyUsername]),
		Password: string(data[contract.SecretKeyPassword]),
	}
}

// CredentialsFromSecret reads the username and password keys of secret; both must be set.
func CredentialsFromSecret(secret *corev1.Secret) (Credentials, error) {
	c := CredentialsOf(secret.Data)
	if c.Username == "" || c.Password == "" {
		return Credentials{}, fmt.Errorf("secret %s needs non-empty %q and %q", secret.Name, contract.SecretKeyUsername, contract.SecretKeyPassword)
	}
	return c, nil
}

// rabbitMQDefinitionsBuilder is definitions.json: users, permissions and the topology.
type rabbitMQDefinitionsBuilder struct {
	shop  *Shop
	users RabbitMQUsers
}

var _ Builder = (*rabbitMQDefinitionsBuilder)(nil)

// RabbitMQDefinitions returns the builder of the Secret with definitions.json, which every
// node imports at boot. users come from the admin Secret and the services' Secrets; the
// reconciler reads them first. It is a Secret because it holds password hashes.
func (s *Shop) RabbitMQDefinitions(users RabbitMQUsers) Builder {
	return &rabbitMQDefinitionsBuilder{shop: s, users: users}
}

// Build implements Builder.
func (b *rabbitMQDefinitionsBuilder) Build() client.Object {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: b.shop.Names.RabbitMQDefinitions(), Namespace: b.shop.Instance.Namespace}}
}

// Update implements Builder.
func (b *rabbitMQDefinitionsBuilder) Update(obj client.Object) error {
	secret, ok := obj.(*corev1.Secret)
	if !ok {
		return typeError("Secret", obj)
	}
	if err := b.shop.setOwnerAndLabels(secret, ComponentRabbitMQ); err != nil {
		return err
	}
	defs, err := rabbitMQDefinitionsJSON(b.users)
	if err != nil {
		return err
	}
	if secret.Type == "" {
		secret.Type = corev1.SecretTypeOpaque
	}
	secret.Data = map[string][]byte{RabbitMQDefinitionsKey: defs}
	secret.StringData = nil
	return nil
}

// The definitions format of RabbitMQ's export/import (rabbitmqctl export_definitions).
type (
	rmqDefinitions struct {
		Users       []rmqUser       `json:"users"`
		Vhosts      []rmqVhost      `json:"vhosts"`
		Permissions []rmqPermission `json:"permissions"`
		Exchanges   []rmqExchange   `json:"exchanges"`
		Queues      []rmqQueue      `json:"queues"`
		Bindings    []rmqBinding    `json:"bindings"`
	}
	rmqUser struct {
		Name             string   `json:"name"`
		PasswordHash     string   `json:"password_hash"`
		HashingAlgorithm string   `json:"hashing_algorithm"`
		Tags             []string `json:"tags"`
	}
	rmqVhost struct {
		Name string `json:"name"`
	}
	rmqPermission struct {
		User      string `json:"user"`
		Vhost     string `json:"vhost"`
		Configure string `json:"configure"`
		Write     string `json:"write"`
		Read      string `json:"read"`
	}
	rmqExchange struct {
		Name       string         `json:"name"`
		Vhost      string         `json:"vhost"`
		Type       string         `json:"type"`
		Durable    bool           `json:"durable"`
		AutoDelete bool           `json:"auto_delete"`
		Internal   bool           `json:"internal"`
		Arguments  map[string]any `json:"arguments"`
	}
	rmqQueue struct {
		Name       string         `json:"name"`
		Vhost      string         `json:"vhost"`
		Durable    bool           `json:"durable"`
		AutoDelete bool           `json:"auto_delete"`
		Arguments  map[string]any `json:"arguments"`
	}
	rmqBinding struct {
		Source          string         `json:"source"`
		Vhost           string         `json:"vhost"`
		Destination     string         `json:"destination"`
		DestinationType string         `json:"destination_type"`
		RoutingKey      string         `json:"routing_key"`
		Arguments       map[string]any `json:"arguments"`
	}
)

const (
	rabbitMQVhost            = "/"
	rabbitMQHashingAlgorithm = "rabbit_password_hashing_sha256"
	// rabbitMQNothing is a permission pattern no resource name matches.
	rabbitMQNothing = "^$"
)

// rabbitMQDefinitionsJSON renders definitions.json. The same users always give the same bytes.
func rabbitMQDefinitionsJSON(users RabbitMQUsers) ([]byte, error) {
	type role struct {
		name string
		c    Credentials
	}
	roles := []role{{"admin", users.Admin}, {"backend", users.Backend}, {"notifier", users.Notifier}}
	if users.Auth != nil {
		roles = append(roles, role{"auth", *users.Auth})
	}
	seen := map[string]bool{}
	for _, u := range roles {
		if u.c.Username == "" || u.c.Password == "" {
			return nil, fmt.Errorf("rabbitmq definitions: credentials of the %s user are missing", u.name)
		}
		if seen[u.c.Username] {
			return nil, errors.New("rabbitmq definitions: admin, backend, notifier and auth need distinct usernames")
		}
		seen[u.c.Username] = true
	}

	d := rmqDefinitions{
		Users: []rmqUser{
			rabbitMQUser(users.Admin, "administrator"),
			rabbitMQUser(users.Backend),
			rabbitMQUser(users.Notifier),
		},
		Vhosts: []rmqVhost{{Name: rabbitMQVhost}},
		Permissions: []rmqPermission{
			{User: users.Admin.Username, Vhost: rabbitMQVhost, Configure: ".*", Write: ".*", Read: ".*"},
			// The backend publishes events, and tells its other replicas of item writes through
			// a queue of its own that the broker names and deletes with its connection: that
			// queue is all it may declare, and all it reads besides binding it.
			{User: users.Backend.Username, Vhost: rabbitMQVhost,
				Configure: contract.BackendAMQPConfigure, Write: contract.BackendAMQPWrite, Read: contract.BackendAMQPRead},
			// The notifier consumes the shop's queues (work, retry, dead-letter) and publishes
			// only retries and parked messages.
			{User: users.Notifier.Username, Vhost: rabbitMQVhost,
				Configure: rabbitMQNothing, Write: exactly(contract.RetryExchange, contract.DeadLetterExchange),
				Read: "^" + regexp.QuoteMeta("ecom-queue-") + ".*$"},
		},
	}
	if users.Auth != nil {
		// Auth publishes verification mails and nothing else, as the backend publishes events.
		d.Users = append(d.Users, rabbitMQUser(*users.Auth))
		d.Permissions = append(d.Permissions, rmqPermission{User: users.Auth.Username, Vhost: rabbitMQVhost,
			Configure: rabbitMQNothing, Write: exactly(contract.Exchange), Read: rabbitMQNothing})
	}
	topo := definitionsTopology()
	for _, e := range topo.Exchanges {
		d.Exchanges = append(d.Exchanges, rmqExchange{Name: e.Name, Vhost: rabbitMQVhost, Type: e.Kind,
			Durable: true, Arguments: nonNil(nil)})
	}
	for _, q := range topo.Queues {
		d.Queues = append(d.Queues, rmqQueue{Name: q.Name, Vhost: rabbitMQVhost, Durable: true, Arguments: nonNil(q.Arguments)})
	}
	for _, bd := range topo.Bindings {
		d.Bindings = append(d.Bindings, rmqBinding{Source: bd.Exchange, Vhost: rabbitMQVhost, Destination: bd.Queue,
			DestinationType: "queue", RoutingKey: bd.RoutingKey, Arguments: nonNil(bd.Arguments)})
	}
	// encoding/json writes struct fields in order and map keys sorted: deterministic.
	out, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("rendering rabbitmq definitions: %w", err)
	}
	return append(out, '\n'), nil
}

// definitionsTopology is the shop's topology plus the queue of verification mails
// (contract.VerifyWorkQueue), which every shop declares, verification on or off: an empty
// queue costs nothing; the notifier, whose user may not declare queues, finds it at start, so
// turning verification on later needs no notifier restart; and the broker does not log the
// notifier's refused declaration of a missing queue. Its arguments are the work queues',
// which the notifier's passive check expects.
func definitionsTopology() contract.Topology {
	topo := contract.ShopTopology()
	v := contract.VerifyWorkQueue
	topo.Queues = append(topo.Queues, contract.TopologyQueue{Name: v.Queue, Arguments: map[string]any{
		contract.ArgDeadLetterExchange: contract.DeadLetterExchange,
	}})
	topo.Bindings = append(topo.Bindings, contract.TopologyBinding{Exchange: contract.Exchange, Queue: v.Queue, RoutingKey: v.RoutingKey})
	// The backend's replicas tell each other of item writes through it (each binds a queue
	// of its own). Not in the shop topology the services ensure at start: a broker whose
	// definitions predate it must not stop the relay or the notifier, only the item cache.
	topo.Exchanges = append(topo.Exchanges, contract.ItemChangesTopology)
	return topo
}

func rabbitMQUser(c Credentials, tags ...string) rmqUser {
	if tags == nil {
		tags = []string{}
	}
	return rmqUser{Name: c.Username, PasswordHash: rabbitMQPasswordHash(c), HashingAlgorithm: rabbitMQHashingAlgorithm, Tags: tags}
}

// rabbitMQPasswordHash is RabbitMQ's rabbit_password_hashing_sha256 format:
// base64(salt ‖ sha256(salt ‖ password)) with a 4-byte salt.
//
// RabbitMQ itself draws a random salt. Here the salt is an HMAC of the username keyed with the
// password, so the same credentials always render the same definitions.json: a random salt
// would change the Secret on every reconcile, which is a write each time and, through the
// config-hash annotation, a rolling restart of the broker. The salt still differs between
// users and between passwords; the passwords are long random tokens, so a per-hash salt is
// not what protects them against precomputed tables anyway.
func rabbitMQPasswordHash(c Credentials) string {
	mac := hmac.New(sha256.New, []byte(c.Password))
	mac.Write([]byte("littleecom rabbitmq salt\x00" + c.Username))
	salt := mac.Sum(nil)[:4]
	return rabbitMQSaltedHash(salt, c.Password)
}

// rabbitMQSaltedHash is base64(salt ‖ sha256(salt ‖ password)).
func rabbitMQSaltedHash(salt []byte, password string) string {
	sum := sha256.Sum256(append(append([]byte{}, salt...), password...))
	return base64.StdEncoding.EncodeToString(append(append([]byte{}, salt...), sum[:]...))
}

// exactly is a permission pattern matching exactly the given names.
func exactly(names ...string) string {
	if len(names) == 1 {
		return "^" + regexp.QuoteMeta(names[0]) + "$"
	}
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = regexp.QuoteMeta(n)
	}
	return "^(" + strings.Join(quoted, "|") + ")$"
}

// nonNil returns m, or an empty map so that JSON shows {} rather than null.
func nonNil(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
