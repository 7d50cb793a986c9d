package tokens

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are the access token's claims. Email and exp are what the original shop's clients
// and backend read; the registered claims make the token verifiable on its own.
type Claims struct {
	Email string `json:"email"`
	jwt.RegisteredClaims
}

// Signer issues access tokens with one Ed25519 key.
type Signer struct {
	key      ed25519.PrivateKey
	kid      string
	issuer   string
	audience string
	ttl      time.Duration
	// Now is the clock; tests replace it.
	Now func() time.Time
}

// NewSigner returns a Signer for tokens valid for ttl, with the given iss and aud.
func NewSigner(key ed25519.PrivateKey, issuer, audience string, ttl time.Duration) *Signer {
	return &Signer{
		key:      key,
		kid:      Thumbprint(key.Public().(ed25519.PublicKey)),
		issuer:   issuer,
		audience: audience,
		ttl:      ttl,
		Now:      time.Now,
	}
}

// KeyID is the kid header of every token, the thumbprint of the public key.
func (s *Signer) KeyID() string { return s.kid }

// TTL is how long issued tokens are valid.
func (s *Signer) TTL() time.Duration { return s.ttl }

// PublicKey is the key that verifies this signer's tokens.
func (s *Signer) PublicKey() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// JWKS is the key set to publish at contract.PathJWKS.
func (s *Signer) JWKS() JWKS { return JWKS{Keys: []JWK{PublicJWK(s.PublicKey())}} }

// Keys is a KeySource for verifying this signer's tokens in-process (auth's /auth/validate).
func (s *Signer) Keys() StaticKeys { return StaticKeys{s.kid: s.PublicKey()} }

// Sign issues an access token for the account. subject is the stable account id.
func (s *Signer) Sign(email, subject string) (token string, expires time.Time, err error) {
	now := s.Now().UTC().Truncate(time.Second)
	expires = now.Add(s.ttl)
	var jti [16]byte
	_, _ = rand.Read(jti[:])
	claims := Claims{
		Email: email,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.issuer,
			Subject:   subject,
			Audience:  jwt.ClaimStrings{s.audience},
			ExpiresAt: jwt.NewNumericDate(expires),
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ID:        hex.EncodeToString(jti[:]),
		},
	}
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	t.Header["kid"] = s.kid
	signed, err := t.SignedString(s.key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	return signed, expires, nil
}
