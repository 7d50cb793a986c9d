package tokens

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
)

// GenerateKey returns a new Ed25519 private key.
func GenerateKey() ed25519.PrivateKey {
	_, priv, _ := ed25519.GenerateKey(rand.Reader) // crypto/rand never fails on Go 1.24+
	return priv
}

// ParsePrivateKeyPEM reads a PEM "PRIVATE KEY" block holding a PKCS#8 Ed25519 key, the form
// the operator stores in the auth keys Secret.
func ParsePrivateKeyPEM(data []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("signing key: no PEM block")
	}
	if block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("signing key: PEM block %q, want PRIVATE KEY (PKCS#8)", block.Type)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key: %T, want Ed25519", k)
	}
	return priv, nil
}

// MarshalPrivateKeyPEM encodes key as PKCS#8 PEM, the inverse of ParsePrivateKeyPEM.
func MarshalPrivateKeyPEM(key ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("marshal signing key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// JWK is one JSON Web Key; only the OKP/Ed25519 members are used.
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Alg string `json:"alg,omitempty"`
	Use string `json:"use,omitempty"`
}

// JWKS is a JSON Web Key Set, the body of contract.PathJWKS.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// PublicJWK describes pub as an OKP key whose kid is its RFC 7638 thumbprint, so the kid
// changes exactly when the key does.
func PublicJWK(pub ed25519.PublicKey) JWK {
	return JWK{
		Kty: "OKP",
		Crv: "Ed25519",
		X:   base64.RawURLEncoding.EncodeToString(pub),
		Kid: Thumbprint(pub),
		Alg: "EdDSA",
		Use: "sig",
	}
}

// Thumbprint is the RFC 7638 (and RFC 8037 §2) thumbprint of an Ed25519 public key: the
// base64url SHA-256 of the required members in lexicographic order without whitespace.
func Thumbprint(pub ed25519.PublicKey) string {
	canon := `{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}`
	sum := sha256.Sum256([]byte(canon))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// PublicKey returns the Ed25519 key of an OKP/Ed25519 JWK, refusing any other kind.
func (k JWK) PublicKey() (ed25519.PublicKey, error) {
	if k.Kty != "OKP" || k.Crv != "Ed25519" {
		return nil, fmt.Errorf("jwk %q: kty %q crv %q, want OKP Ed25519", k.Kid, k.Kty, k.Crv)
	}
	if k.Alg != "" && k.Alg != "EdDSA" {
		return nil, fmt.Errorf("jwk %q: alg %q, want EdDSA", k.Kid, k.Alg)
	}
	x, err := base64.RawURLEncoding.DecodeString(k.X)
	if err != nil || len(x) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("jwk %q: x is not a base64url Ed25519 public key", k.Kid)
	}
	return ed25519.PublicKey(x), nil
}
