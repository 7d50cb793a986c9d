package resource

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestGeneratedSecret_CreatedOnceNeverRotated(t *testing.T) {
	s := newTestShop(t, nil)
	b := s.Credentials("shop-mongodb-root", ComponentMongoDB, "root")
	secret := buildOnce(t, b).(*corev1.Secret)
	assertOwned(t, secret, "shop-mongodb-root", ComponentMongoDB)
	if string(secret.Data["username"]) != "root" || len(secret.Data["password"]) != 32 {
		t.Fatalf("data = %q", secret.Data)
	}
	first := bytes.Clone(secret.Data["password"])
	for range 3 {
		if err := b.Update(secret); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(secret.Data["password"], first) {
		t.Error("Update rotated an existing password")
	}
	other := buildOnce(t, s.Credentials("x", ComponentMongoDB, "root")).(*corev1.Secret)
	if bytes.Equal(other.Data["password"], first) {
		t.Error("two generated passwords are equal")
	}
}

func TestGeneratedSecret_FillsOnlyMissingKeys(t *testing.T) {
	s := newTestShop(t, nil)
	b := s.Credentials("c", ComponentBackend, "backend")
	secret := b.Build().(*corev1.Secret)
	secret.Data = map[string][]byte{"password": []byte("chosen-by-admin")}
	if err := b.Update(secret); err != nil {
		t.Fatal(err)
	}
	if string(secret.Data["password"]) != "chosen-by-admin" || string(secret.Data["username"]) != "backend" {
		t.Errorf("data = %q", secret.Data)
	}
}

func TestMongoDBKeyfile_IsValidForMongod(t *testing.T) {
	secret := buildOnce(t, newTestShop(t, nil).MongoDBKeyfile()).(*corev1.Secret)
	key := secret.Data[MongoDBKeyfileKey]
	// mongod wants 6 to 1024 characters of the base64 set.
	if len(key) < 6 || len(key) > 1024 {
		t.Fatalf("keyfile length %d", len(key))
	}
	if _, err := base64.StdEncoding.DecodeString(string(key)); err != nil {
		t.Errorf("keyfile is not base64: %v", err)
	}
}

func TestAuthSigningKey_IsAnEd25519PKCS8Key(t *testing.T) {
	secret := buildOnce(t, newTestShop(t, nil).AuthSigningKey()).(*corev1.Secret)
	block, _ := pem.Decode(secret.Data["signing-key.pem"])
	if block == nil || block.Type != "PRIVATE KEY" {
		t.Fatalf("not a PEM private key: %q", secret.Data["signing-key.pem"])
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := key.(ed25519.PrivateKey); !ok {
		t.Errorf("key is %T, want ed25519", key)
	}
}
