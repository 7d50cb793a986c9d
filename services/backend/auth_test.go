package backend_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/tokens"
)

// TestAuth_RefusesBadTokens sends every kind of bad token through the HTTP layer. The
// tokens are made by a real auth signer (or forged around it), verified against its JWKS.
func TestAuth_RefusesBadTokens(t *testing.T) {
	s := newShop(t)
	id := s.AddItem("seller@example.com", "lamp", 3)

	past := tokens.NewSigner(tokens.GenerateKey(), contract.DefaultIssuer, contract.DefaultAudience, time.Minute)
	expiredSigner := *s.Signer
	expiredSigner.Now = func() time.Time { return time.Now().Add(-time.Hour) }
	expired, _, err := expiredSigner.Sign("buyer@example.com", "sub")
	if err != nil {
		t.Fatal(err)
	}
	// The right key, but tokens for another shop or issuer.
	key := s.Key
	wrongAud, _, _ := tokens.NewSigner(key, contract.DefaultIssuer, "another-shop", time.Minute).Sign("buyer@example.com", "sub")
	wrongIss, _, _ := tokens.NewSigner(key, "someone-else", contract.DefaultAudience, time.Minute).Sign("buyer@example.com", "sub")
	unknownKey, _, _ := past.Sign("buyer@example.com", "sub")

	claims := jwt.MapClaims{"email": "buyer@example.com", "iss": contract.DefaultIssuer,
		"aud": contract.DefaultAudience, "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}
	none := jwt.NewWithClaims(jwt.SigningMethodNone, claims)
	none.Header["kid"] = s.Signer.KeyID()
	algNone, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	hs.Header["kid"] = s.Signer.KeyID()
	hsWithPublicKey, _ := hs.SignedString([]byte(s.Signer.PublicKey()))

	tests := []struct {
		name, header string
	}{
		{"missing", ""},
		{"malformed", "Bearer not.a.jwt"},
		{"garbage", "Bearer abc"},
		{"other scheme", "Basic dXNlcjpwYXNz"},
		{"expired", "Bearer " + expired},
		{"wrong audience", "Bearer " + wrongAud},
		{"wrong issuer", "Bearer " + wrongIss},
		{"unknown key", "Bearer " + unknownKey},
		{"alg none", "Bearer " + algNone},
		{"HS256 keyed with the public key", "Bearer " + hsWithPublicKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, route := range []struct{ method, path, body string }{
				{"POST", "/item", `{"name":"x","price":1}`},
				{"PUT", "/item/" + id, `{"name":"x","price":1}`},
				{"DELETE", "/item/" + id, ""},
				{"POST", "/buy/" + id, ""},
				{"GET", "/orders", ""},
			} {
				req, _ := http.NewRequest(route.method, s.URL+route.path, strings.NewReader(route.body))
				if tt.header != "" {
					req.Header.Set("Authorization", tt.header)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("%s %s = %d, want 401", route.method, route.path, resp.StatusCode)
				}
				if resp.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s %s: no WWW-Authenticate header", route.method, route.path)
				}
			}
		})
	}
	// Nothing above reached the store.
	if r := s.Do("GET", "/item/"+id, "", ""); r.Status != 200 || !strings.Contains(r.Body, `"name":"lamp"`) {
		t.Errorf("item changed by refused requests: %d %s", r.Status, r.Body)
	}
	// And the original shop's clients, which sent the bare token, still work.
	req, _ := http.NewRequest("POST", s.URL+"/item", strings.NewReader(`{"name":"bare","price":1}`))
	req.Header.Set("Authorization", s.Token("seller@example.com"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("bare token = %d, want 201", resp.StatusCode)
	}
}
