package tokens_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"littleecom.io/littleecom/services/internal/problem"
	"littleecom.io/littleecom/services/internal/tokens"
)

// A key fetched once keeps verifying while auth is down, also after a refetch for an unknown
// kid failed; the unknown kid itself is then a 503, not a 401.
func TestJWKSClient_CachedKeyOutlivesAuth(t *testing.T) {
	s := tokens.NewSigner(tokens.GenerateKey(), iss, aud, time.Minute)
	var up atomic.Bool
	up.Store(true)
	jc := newJWKSClient(t, authJWKS(t, s, &up))
	jc.MinRefreshInterval = 0
	v := tokens.NewVerifierWithCache(jc, iss, aud, 0) // no token cache: every Verify asks jc

	up.Store(false)
	other := tokens.NewSigner(tokens.GenerateKey(), iss, aud, time.Minute)
	unknown, _, _ := other.Sign("a@b.example", "x")
	if _, err := v.Verify(context.Background(), unknown); problem.CodeOf(err) != problem.Unavailable {
		t.Errorf("unknown kid while auth is down: %v, want 503", err)
	}
	known, _, _ := s.Sign("a@b.example", "x")
	if _, err := v.Verify(context.Background(), known); err != nil {
		t.Errorf("cached key while auth is down: %v", err)
	}
}

// A backend that starts while auth is still down verifies tokens as soon as auth answers,
// without waiting out MinRefreshInterval (the old client fetched lazily, on first use).
func TestJWKSClient_StartsBeforeAuth(t *testing.T) {
	s := tokens.NewSigner(tokens.GenerateKey(), iss, aud, time.Minute)
	var up atomic.Bool
	jc := newJWKSClient(t, authJWKS(t, s, &up)) // MinRefreshInterval stays at its default
	up.Store(true)
	tok, _, _ := s.Sign("a@b.example", "x")
	if _, err := tokens.NewVerifier(jc, iss, aud).Verify(context.Background(), tok); err != nil {
		t.Errorf("first token after auth came up: %v", err)
	}
}

// Requests that arrive with a new kid while one of them fetches wait for that fetch and use
// its keys, instead of being refused because the refetch budget is spent.
func TestJWKSClient_ConcurrentUnknownKidsShareOneFetch(t *testing.T) {
	first := tokens.NewSigner(tokens.GenerateKey(), iss, aud, time.Minute)
	second := tokens.NewSigner(tokens.GenerateKey(), iss, aud, time.Minute)
	var current atomic.Pointer[tokens.Signer]
	current.Store(first)
	var fetches atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		_ = json.NewEncoder(w).Encode(current.Load().JWKS())
	}))
	defer srv.Close()
	jc := newJWKSClient(t, srv.URL)
	jc.MinRefreshInterval = time.Hour
	current.Store(second)
	tokens.AllowRefetch(jc)

	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := jc.Key(context.Background(), second.KeyID())
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Key: %v", err)
		}
	}
	if n := fetches.Load(); n != 2 {
		t.Errorf("fetches = %d, want 2 (the first and one refetch)", n)
	}
}

// Only Ed25519 signing keys verify: an EC key, or an Ed25519 key published for encryption,
// is an unknown key (401), not a usable one.
func TestJWKSClient_OnlyEd25519SigningKeys(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecPub, err := ec.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	enc := tokens.PublicJWK(tokens.GenerateKey().Public().(ed25519.PublicKey))
	enc.Use = "enc"
	sig := tokens.NewSigner(tokens.GenerateKey(), iss, aud, time.Minute)
	set := map[string]any{"keys": []any{
		map[string]string{"kty": "EC", "crv": "P-256", "kid": "ec", "alg": "ES256", "use": "sig",
			"x": b64(ecPub[1:33]), "y": b64(ecPub[33:])},
		enc,
		tokens.PublicJWK(sig.PublicKey()),
	}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(set)
	}))
	defer srv.Close()
	jc := newJWKSClient(t, srv.URL)
	for _, kid := range []string{"ec", enc.Kid} {
		if _, err := jc.Key(context.Background(), kid); !errors.Is(err, tokens.ErrUnknownKey) {
			t.Errorf("kid %q: err = %v, want ErrUnknownKey", kid, err)
		}
	}
	if k, err := jc.Key(context.Background(), sig.KeyID()); err != nil || !k.Equal(sig.PublicKey()) {
		t.Errorf("the Ed25519 signing key beside them: %v", err)
	}
}
