package tokens_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"littleecom.io/littleecom/services/internal/problem"
	"littleecom.io/littleecom/services/internal/tokens"
)

const (
	iss = "littleecom-auth"
	aud = "littleecom"
)

func TestVerify_AcceptsSignedToken(t *testing.T) {
	s := tokens.NewSigner(tokens.GenerateKey(), iss, aud, 15*time.Minute)
	tok, exp, err := s.Sign("a@b.example", "id1")
	if err != nil {
		t.Fatal(err)
	}
	c, err := tokens.NewVerifier(s.Keys(), iss, aud).Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if c.Email != "a@b.example" || c.Subject != "id1" || !c.ExpiresAt.Equal(exp) || c.ID == "" || c.IssuedAt == nil {
		t.Errorf("claims = %+v", c)
	}
	hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	var h map[string]any
	_ = json.Unmarshal(hdr, &h)
	if h["alg"] != "EdDSA" || h["kid"] != s.KeyID() {
		t.Errorf("header = %v", h)
	}
}

// forge signs claims with any method and key, for the refusal table.
func forge(t *testing.T, method jwt.SigningMethod, key any, kid string, claims jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVerify_Refusals(t *testing.T) {
	key := tokens.GenerateKey()
	s := tokens.NewSigner(key, iss, aud, 15*time.Minute)
	pub := s.PublicKey()
	kid := s.KeyID()
	now := time.Now()
	good := func() tokens.Claims {
		return tokens.Claims{Email: "a@b.example", RegisteredClaims: jwt.RegisteredClaims{
			Issuer: iss, Audience: jwt.ClaimStrings{aud}, Subject: "x",
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute)), IssuedAt: jwt.NewNumericDate(now),
		}}
	}
	with := func(f func(*tokens.Claims)) tokens.Claims { c := good(); f(&c); return c }
	other := tokens.GenerateKey()

	valid, _, _ := s.Sign("a@b.example", "x")
	parts := strings.Split(valid, ".")
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sig[0] ^= 0xff
	tampered := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
	// Same signature, claims swapped for another e-mail.
	otherClaims, _ := json.Marshal(with(func(c *tokens.Claims) { c.Email = "admin@b.example" }))
	swapped := parts[0] + "." + base64.RawURLEncoding.EncodeToString(otherClaims) + "." + parts[2]

	tests := []struct {
		name  string
		token string
	}{
		{"empty", ""},
		{"garbage", "not.a.token"},
		{"alg none", forge(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, kid, good())},
		{"HS256 keyed with the public key", forge(t, jwt.SigningMethodHS256, []byte(pub), kid, good())},
		{"HS256 keyed with the JWK x", forge(t, jwt.SigningMethodHS256, []byte(base64.RawURLEncoding.EncodeToString(pub)), kid, good())},
		{"expired", forge(t, jwt.SigningMethodEdDSA, key, kid, with(func(c *tokens.Claims) {
			c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Hour))
		}))},
		{"no exp", forge(t, jwt.SigningMethodEdDSA, key, kid, with(func(c *tokens.Claims) { c.ExpiresAt = nil }))},
		{"wrong issuer", forge(t, jwt.SigningMethodEdDSA, key, kid, with(func(c *tokens.Claims) { c.Issuer = "evil" }))},
		{"wrong audience", forge(t, jwt.SigningMethodEdDSA, key, kid, with(func(c *tokens.Claims) { c.Audience = jwt.ClaimStrings{"other"} }))},
		{"no audience", forge(t, jwt.SigningMethodEdDSA, key, kid, with(func(c *tokens.Claims) { c.Audience = nil }))},
		{"issued in the future", forge(t, jwt.SigningMethodEdDSA, key, kid, with(func(c *tokens.Claims) {
			c.IssuedAt = jwt.NewNumericDate(now.Add(time.Hour))
		}))},
		{"no email", forge(t, jwt.SigningMethodEdDSA, key, kid, with(func(c *tokens.Claims) { c.Email = "" }))},
		{"no kid", forge(t, jwt.SigningMethodEdDSA, key, "", good())},
		{"unknown kid", forge(t, jwt.SigningMethodEdDSA, other, "someone-else", good())},
		{"other key under our kid", forge(t, jwt.SigningMethodEdDSA, other, kid, good())},
		{"tampered signature", tampered},
		{"swapped claims", swapped},
	}
	v := tokens.NewVerifier(s.Keys(), iss, aud)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := v.Verify(context.Background(), tt.token)
			if err == nil {
				t.Fatalf("accepted: %+v", c)
			}
			if problem.CodeOf(err) != problem.Unauthorized {
				t.Errorf("code = %q (%v)", problem.CodeOf(err), err)
			}
		})
	}
}

func TestVerify_CacheHonoursExpiry(t *testing.T) {
	s := tokens.NewSigner(tokens.GenerateKey(), iss, aud, time.Minute)
	tok, _, _ := s.Sign("a@b.example", "x")
	v := tokens.NewVerifier(s.Keys(), iss, aud)
	c1, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	c1.Email = "mutated@b.example" // callers get copies: this must not leak into the cache
	c2, err := v.Verify(context.Background(), tok)
	if err != nil || c2.Email != "a@b.example" {
		t.Fatalf("cached verify: %+v %v", c2, err)
	}
	v.Now = func() time.Time { return time.Now().Add(2*time.Minute + tokens.Leeway) }
	if _, err := v.Verify(context.Background(), tok); problem.CodeOf(err) != problem.Unauthorized {
		t.Errorf("expired cached token accepted: %v", err)
	}
}

func TestVerify_CacheIsBounded(t *testing.T) {
	s := tokens.NewSigner(tokens.GenerateKey(), iss, aud, time.Minute)
	v := tokens.NewVerifierWithCache(s.Keys(), iss, aud, 10)
	for range 50 {
		tok, _, _ := s.Sign("a@b.example", "x")
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := tokens.CacheLen(v); n > 10 {
		t.Errorf("cache holds %d entries, max 10", n)
	}
}

func TestVerify_ExpiredSaysSo(t *testing.T) {
	s := tokens.NewSigner(tokens.GenerateKey(), iss, aud, time.Minute)
	s.Now = func() time.Time { return time.Now().Add(-time.Hour) }
	tok, _, _ := s.Sign("a@b.example", "x")
	_, err := tokens.NewVerifier(s.Keys(), iss, aud).Verify(context.Background(), tok)
	var pe *problem.Error
	if !errors.As(err, &pe) || pe.Detail != "token expired" || !errors.Is(err, jwt.ErrTokenExpired) {
		t.Errorf("err = %v", err)
	}
}

func TestThumbprint_RFC8037Example(t *testing.T) {
	// RFC 8037 appendix A.3: the thumbprint of the example Ed25519 public key.
	x, _ := base64.RawURLEncoding.DecodeString("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
	if got, want := tokens.Thumbprint(ed25519.PublicKey(x)), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"; got != want {
		t.Errorf("thumbprint = %s, want %s", got, want)
	}
}

func TestPrivateKeyPEM_RoundTrip(t *testing.T) {
	k := tokens.GenerateKey()
	p, err := tokens.MarshalPrivateKeyPEM(k)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tokens.ParsePrivateKeyPEM(p)
	if err != nil || !got.Equal(k) {
		t.Fatalf("round trip: %v", err)
	}
	if _, err := tokens.ParsePrivateKeyPEM([]byte("nope")); err == nil {
		t.Error("parsed garbage")
	}
}

func TestJWKSClient_CachesAndRefreshesOnUnknownKid(t *testing.T) {
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
	jc.MinRefreshInterval = 0
	v := tokens.NewVerifier(jc, iss, aud)
	ctx := context.Background()
	for range 3 {
		tok, _, _ := first.Sign("a@b.example", "x")
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("fetches after 3 verifications = %d, want 1 (cached)", n)
	}
	// auth rotates its key: the new kid is unknown, so the client refetches once.
	current.Store(second)
	tok, _, _ := second.Sign("a@b.example", "x")
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	if n := fetches.Load(); n != 2 {
		t.Errorf("fetches = %d, want 2", n)
	}
}

func TestJWKSClient_RateLimitsUnknownKidFetches(t *testing.T) {
	s := tokens.NewSigner(tokens.GenerateKey(), iss, aud, time.Minute)
	var fetches atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		_ = json.NewEncoder(w).Encode(s.JWKS())
	}))
	defer srv.Close()
	jc := newJWKSClient(t, srv.URL)
	jc.MinRefreshInterval = time.Hour
	for i := range 20 {
		if _, err := jc.Key(context.Background(), "forged-"+string(rune('a'+i))); !errors.Is(err, tokens.ErrUnknownKey) {
			t.Fatalf("err = %v", err)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("fetches = %d, want 1", n)
	}
}

func TestJWKSClient_AuthDown(t *testing.T) {
	s := tokens.NewSigner(tokens.GenerateKey(), iss, aud, time.Minute)
	var up atomic.Bool
	tok, _, _ := s.Sign("a@b.example", "x")
	jc := newJWKSClient(t, authJWKS(t, s, &up))
	v := tokens.NewVerifier(jc, iss, aud)
	// Down: 503 (retry), not 401 (drop your token) — also for the requests that follow
	// within the refresh interval and do not fetch again.
	for range 2 {
		if _, err := v.Verify(context.Background(), tok); problem.CodeOf(err) != problem.Unavailable {
			t.Errorf("err = %v", err)
		}
	}
	up.Store(true)
	jc.MinRefreshInterval = 0
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Errorf("after auth came back: %v", err)
	}
}

// authJWKS serves s's key set at the returned URL while up is true, and 503 otherwise:
// auth starting, or down.
func authJWKS(tb testing.TB, s *tokens.Signer, up *atomic.Bool) string {
	tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if !up.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		_ = json.NewEncoder(w).Encode(s.JWKS())
	}))
	tb.Cleanup(srv.Close)
	return srv.URL
}

func newJWKSClient(tb testing.TB, url string) *tokens.JWKSClient {
	tb.Helper()
	jc, err := tokens.NewJWKSClient(tb.Context(), url)
	if err != nil {
		tb.Fatal(err)
	}
	return jc
}

func TestBearerToken(t *testing.T) {
	for in, want := range map[string]string{
		"Bearer abc": "abc", "bearer abc": "abc", "abc": "abc", "Basic abc": "", "": "",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", in)
		if got := tokens.BearerToken(r); got != want {
			t.Errorf("%q -> %q, want %q", in, got, want)
		}
	}
}

// BenchmarkVerify is backend's per-request cost of authentication: a client's repeated token
// (cached) and a first sight of a token (signature checked).
func BenchmarkVerify(b *testing.B) {
	b.Run("cached", func(b *testing.B) { benchVerify(b, tokens.DefaultCacheSize) })
	b.Run("uncached", func(b *testing.B) { benchVerify(b, 0) })
	// The key comes from auth's JWKS (cached after the first fetch), as in backend.
	b.Run("uncached_jwks", func(b *testing.B) { benchVerifyJWKS(b) })
}

func benchVerify(b *testing.B, cacheSize int) {
	s := tokens.NewSigner(tokens.GenerateKey(), iss, aud, 15*time.Minute)
	benchVerifier(b, s, tokens.NewVerifierWithCache(s.Keys(), iss, aud, cacheSize))
}

func benchVerifyJWKS(b *testing.B) {
	s := tokens.NewSigner(tokens.GenerateKey(), iss, aud, 15*time.Minute)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(s.JWKS())
	}))
	defer srv.Close()
	benchVerifier(b, s, tokens.NewVerifierWithCache(newJWKSClient(b, srv.URL), iss, aud, 0))
}

func benchVerifier(b *testing.B, s *tokens.Signer, v *tokens.Verifier) {
	tok, _, _ := s.Sign("a@b.example", "x")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}
