package resource

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"littleecom.io/littleecom/internal/contract"
)

// generator makes a fresh secret value.
type generator func() ([]byte, error)

// GeneratedSecret is a Secret whose values the operator generates once: Update fills only
// keys that are missing, so values survive every later reconcile (and a user who edits one
// keeps the edit).
type GeneratedSecret struct {
	shop      *Shop
	name      string
	component string
	keys      map[string]generator
}

var _ Builder = (*GeneratedSecret)(nil)

// Build implements Builder.
func (g *GeneratedSecret) Build() client.Object {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: g.name, Namespace: g.shop.Instance.Namespace}}
}

// Update implements Builder.
func (g *GeneratedSecret) Update(obj client.Object) error {
	secret, ok := obj.(*corev1.Secret)
	if !ok {
		return typeError("Secret", obj)
	}
	if err := g.shop.setOwnerAndLabels(secret, g.component); err != nil {
		return err
	}
	if secret.Type == "" {
		secret.Type = corev1.SecretTypeOpaque
	}
	if secret.Data == nil {
		secret.Data = map[string][]byte{}
	}
	for _, key := range slices.Sorted(maps.Keys(g.keys)) {
		if len(secret.Data[key]) > 0 {
			continue
		}
		value, err := g.keys[key]()
		if err != nil {
			return fmt.Errorf("generating %s of secret %s: %w", key, g.name, err)
		}
		secret.Data[key] = value
	}
	return nil
}

// Credentials is a generated username/password pair.
func (s *Shop) Credentials(name, component, username string) *GeneratedSecret {
	return &GeneratedSecret{shop: s, name: name, component: component, keys: map[string]generator{
		contract.SecretKeyUsername: constant(username),
		contract.SecretKeyPassword: randomToken(32),
	}}
}

// MongoDBKeyfile is the replica-set keyfile members authenticate each other with.
func (s *Shop) MongoDBKeyfile() *GeneratedSecret {
	return &GeneratedSecret{shop: s, name: s.Names.MongoDBKeyfileSecret(), component: ComponentMongoDB,
		keys: map[string]generator{MongoDBKeyfileKey: randomBase64(756)}}
}

// RabbitMQErlangCookie is the cookie broker nodes and CLI tools share.
func (s *Shop) RabbitMQErlangCookie() *GeneratedSecret {
	return &GeneratedSecret{shop: s, name: s.Names.RabbitMQErlangCookieSecret(), component: ComponentRabbitMQ,
		keys: map[string]generator{RabbitMQCookieKey: randomToken(48)}}
}

// AuthSigningKey is the Ed25519 key auth signs access tokens with.
func (s *Shop) AuthSigningKey() *GeneratedSecret {
	return &GeneratedSecret{shop: s, name: s.Names.AuthSigningKeySecret(), component: ComponentAuth,
		keys: map[string]generator{contract.SecretKeySigningKey: ed25519PEM}}
}

// Keys inside generated Secrets that only the operator's own pods read.
const (
	MongoDBKeyfileKey = "keyfile"
	RabbitMQCookieKey = "cookie"
)

func constant(v string) generator { return func() ([]byte, error) { return []byte(v), nil } }

const tokenAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// randomToken returns n characters that need no escaping in URIs, shells or config files.
func randomToken(n int) generator {
	return func() ([]byte, error) {
		raw := make([]byte, n)
		if _, err := rand.Read(raw); err != nil {
			return nil, fmt.Errorf("reading random bytes: %w", err)
		}
		out := make([]byte, n)
		for i, b := range raw {
			// 256 % 62 != 0 gives a slight bias; 32 characters keep > 180 bits regardless.
			out[i] = tokenAlphabet[int(b)%len(tokenAlphabet)]
		}
		return out, nil
	}
}

// randomBase64 returns n base64 characters; mongod accepts 6 to 1024 of them as a keyfile.
func randomBase64(n int) generator {
	return func() ([]byte, error) {
		raw := make([]byte, n*3/4)
		if _, err := rand.Read(raw); err != nil {
			return nil, fmt.Errorf("reading random bytes: %w", err)
		}
		return []byte(base64.StdEncoding.EncodeToString(raw)), nil
	}
}

func ed25519PEM() ([]byte, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating ed25519 key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encoding ed25519 key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
