package auth

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"golang.org/x/crypto/bcrypt"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/auth/store"
	"littleecom.io/littleecom/services/internal/accountdeletion"
	"littleecom.io/littleecom/services/internal/mongox"
	"littleecom.io/littleecom/services/internal/tokens"
)

func TestRegister(t *testing.T) {
	e := newEnv(t)
	e.register("ann@shop.example", "secret1")
	tests := []struct {
		name   string
		body   string
		status int
	}{
		{"new account", creds("bob@shop.example", "secret1"), 201},
		{"invalid e-mail", creds("not-an-email", "secret1"), 400},
		{"look-alike e-mail (U+017F)", creds("ſam@shop.example", "secret1"), 400},
		{"e-mail with display name", creds("Ann <x@shop.example>", "secret1"), 400},
		{"empty e-mail", creds("", "secret1"), 400},
		{"password under 6 chars", creds("carl@shop.example", "12345"), 400},
		{"password over 72 bytes", creds("carl@shop.example", strings.Repeat("p", 73)), 400},
		{"malformed JSON", `{"email":`, 400},
		{"wrong type", `{"email":1,"password":"secret1"}`, 400},
		{"body too large", `{"email":"x@shop.example","password":"` + strings.Repeat("p", 20<<10) + `"}`, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("POST", "/auth/register", tt.body)
			if tt.status == 201 {
				if r.status != 201 || r.body != `{"email":"bob@shop.example"}`+"\n" {
					t.Fatalf("%d %s", r.status, r.body)
				}
				return
			}
			wantProblem(t, r, tt.status)
		})
	}
}

func TestSignin(t *testing.T) {
	e := newEnv(t)
	e.register("ann@shop.example", "secret1")
	verifier := tokens.NewVerifier(e.svc.Signer().Keys(), contract.DefaultIssuer, contract.DefaultAudience)
	t.Run("success answers the token as text/plain", func(t *testing.T) {
		r := e.do("POST", "/auth/signin", creds("Ann@Shop.example", "secret1"))
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
			t.Fatalf("%d %q %s", r.status, r.header.Get("Content-Type"), r.body)
		}
		c, err := verifier.Verify(context.Background(), r.body)
		if err != nil {
			t.Fatal(err)
		}
		if c.Email != "ann@shop.example" || c.Subject == "" || c.ID == "" || c.IssuedAt == nil ||
			c.ExpiresAt.Sub(c.IssuedAt.Time) != 15*time.Minute {
			t.Errorf("claims = %+v", c)
		}
	})
	for _, tt := range []struct {
		name, body string
		status     int
	}{
		{"wrong password", creds("ann@shop.example", "wrong12"), 401},
		{"unknown e-mail", creds("nobody@shop.example", "secret1"), 401},
		{"malformed JSON", `{`, 400},
	} {
		t.Run(tt.name, func(t *testing.T) { wantProblem(t, e.do("POST", "/auth/signin", tt.body), tt.status) })
	}
}

func TestToken(t *testing.T) {
	e := newEnv(t)
	e.register("ann@shop.example", "secret1")
	r := e.do("POST", "/auth/token", creds("ann@shop.example", "secret1"))
	if r.status != 200 || r.header.Get("Content-Type") != "application/json" || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("%d %v %s", r.status, r.header, r.body)
	}
	var p tokenPair
	r.json(t, &p)
	if p.TokenType != "Bearer" || p.ExpiresIn != 900 || p.RefreshToken == "" || strings.Count(p.AccessToken, ".") != 2 {
		t.Errorf("pair = %+v", p)
	}
	wantProblem(t, e.do("POST", "/auth/token", creds("ann@shop.example", "nope123")), 401)
	wantProblem(t, e.do("POST", "/auth/token", `[]`), 400)
}

func TestValidate(t *testing.T) {
	e := newEnv(t)
	e.register("ann@shop.example", "secret1")
	tok := e.do("POST", "/auth/signin", creds("ann@shop.example", "secret1")).body

	r := e.do("POST", "/auth/validate", `{"token":"`+tok+`"}`)
	var got struct {
		Email string `json:"email"`
		Exp   int64  `json:"exp"`
	}
	r.json(t, &got)
	if r.status != 200 || got.Email != "ann@shop.example" || got.Exp < time.Now().Unix() {
		t.Fatalf("%d %s", r.status, r.body)
	}

	foreign := tokens.NewSigner(tokens.GenerateKey(), contract.DefaultIssuer, contract.DefaultAudience, time.Minute)
	foreignTok, _, _ := foreign.Sign("ann@shop.example", "x")
	expiredSigner := *e.svc.Signer()
	expiredSigner.Now = func() time.Time { return time.Now().Add(-time.Hour) }
	expiredTok, _, _ := expiredSigner.Sign("ann@shop.example", "x")
	// A good signature of an account deleted since.
	gone := e.svc.signer
	goneTok, _, _ := gone.Sign("gone@shop.example", "65f1c0ffee0123456789abcd")
	for name, body := range map[string]string{
		"deleted account": `{"token":"` + goneTok + `"}`,
		"garbage":         `{"token":"abc.def.ghi"}`,
		"missing token":   `{}`,
		"other key":       `{"token":"` + foreignTok + `"}`,
		"expired":         `{"token":"` + expiredTok + `"}`,
		"tampered token":  `{"token":"` + tamperSignature(tok) + `"}`,
	} {
		t.Run(name, func(t *testing.T) { wantProblem(t, e.do("POST", "/auth/validate", body), 401) })
	}
}

func TestRefresh_RotatesOnEveryUse(t *testing.T) {
	e := newEnv(t)
	e.register("ann@shop.example", "secret1")
	p1 := e.pair("secret1")

	r := e.do("POST", "/auth/refresh", `{"refresh_token":"`+p1.RefreshToken+`"}`)
	var p2 tokenPair
	r.json(t, &p2)
	if r.status != 200 || p2.RefreshToken == "" || p2.RefreshToken == p1.RefreshToken || p2.AccessToken == "" {
		t.Fatalf("%d %s", r.status, r.body)
	}
	r = e.do("POST", "/auth/refresh", `{"refresh_token":"`+p2.RefreshToken+`"}`)
	if r.status != 200 {
		t.Fatalf("second rotation: %d %s", r.status, r.body)
	}
}

func TestRefresh_ReuseRevokesTheFamily(t *testing.T) {
	e := newEnv(t)
	e.register("ann@shop.example", "secret1")
	p1 := e.pair("secret1")
	other := e.pair("secret1") // another device: another family

	var p2 tokenPair
	e.do("POST", "/auth/refresh", `{"refresh_token":"`+p1.RefreshToken+`"}`).json(t, &p2)

	// The rotated token comes back (a thief replays it): refused, and the family dies.
	wantProblem(t, e.do("POST", "/auth/refresh", `{"refresh_token":"`+p1.RefreshToken+`"}`), 401)
	wantProblem(t, e.do("POST", "/auth/refresh", `{"refresh_token":"`+p2.RefreshToken+`"}`), 401)
	if !strings.Contains(e.logs.String(), "refresh token reused") {
		t.Error("reuse not logged")
	}
	// Other families are untouched.
	if r := e.do("POST", "/auth/refresh", `{"refresh_token":"`+other.RefreshToken+`"}`); r.status != 200 {
		t.Errorf("other family: %d %s", r.status, r.body)
	}
}

func TestRefresh_ConcurrentUseHasOneWinner(t *testing.T) {
	e := newEnv(t)
	e.register("ann@shop.example", "secret1")
	p := e.pair("secret1")
	const n = 20
	statuses := make(chan int, n)
	start := make(chan struct{})
	for range n {
		go func() {
			<-start
			statuses <- e.do("POST", "/auth/refresh", `{"refresh_token":"`+p.RefreshToken+`"}`).status
		}()
	}
	close(start)
	ok := 0
	for range n {
		switch s := <-statuses; s {
		case 200:
			ok++
		case 401:
		default:
			t.Errorf("status %d", s)
		}
	}
	// At most one wins; when the losers' reuse revoked the family, none does — concurrent
	// use of one refresh token is reuse.
	if ok > 1 {
		t.Errorf("%d concurrent rotations of one token succeeded, want at most 1", ok)
	}
	wantProblem(t, e.do("POST", "/auth/refresh", `{"refresh_token":"`+p.RefreshToken+`"}`), 401)
}

func TestPurgeExpired(t *testing.T) {
	e := newEnv(t)
	e.register("ann@shop.example", "secret1")
	p := e.pair("secret1")
	ctx := context.Background()
	if e.svc.ttlIndexes {
		t.Log("server has TTL indexes; testing the purge anyway")
	}
	purgeAt := func(now time.Time) error {
		return mongox.Purger{Sets: e.svc.store.Expiring(), Now: func() time.Time { return now }}.Purge(ctx)
	}
	if err := purgeAt(time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.store.TokenByHash(ctx, hashToken(p.RefreshToken)); err != nil {
		t.Fatalf("live token purged: %v", err)
	}
	if err := purgeAt(time.Now().Add(721 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.store.TokenByHash(ctx, hashToken(p.RefreshToken)); err != store.ErrNotFound {
		t.Fatalf("expired token kept: %v", err)
	}
}

func TestRefresh_Failures(t *testing.T) {
	e := newEnv(t)
	e.register("ann@shop.example", "secret1")
	p := e.pair("secret1")
	wantProblem(t, e.do("POST", "/auth/refresh", `{}`), 400)
	wantProblem(t, e.do("POST", "/auth/refresh", `{"refresh_token":"unknown"}`), 401)
	wantProblem(t, e.do("POST", "/auth/refresh", `{"refresh_token":"`+p.AccessToken+`"}`), 401)

	e.svc.now = func() time.Time { return time.Now().Add(721 * time.Hour) }
	wantProblem(t, e.do("POST", "/auth/refresh", `{"refresh_token":"`+p.RefreshToken+`"}`), 401)
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	e.register("ann@shop.example", "secret1")
	p := e.pair("secret1")
	var p2 tokenPair
	e.do("POST", "/auth/refresh", `{"refresh_token":"`+p.RefreshToken+`"}`).json(t, &p2)

	if r := e.do("POST", "/auth/logout", `{"refresh_token":"`+p2.RefreshToken+`"}`); r.status != 204 || r.body != "" {
		t.Fatalf("logout: %d %s", r.status, r.body)
	}
	wantProblem(t, e.do("POST", "/auth/refresh", `{"refresh_token":"`+p2.RefreshToken+`"}`), 401)
	if r := e.do("POST", "/auth/logout", `{"refresh_token":"never-issued"}`); r.status != 204 {
		t.Errorf("unknown token: %d", r.status)
	}
	wantProblem(t, e.do("POST", "/auth/logout", `{}`), 400)
}

func TestDelete(t *testing.T) {
	e := newEnv(t)
	e.register("ann@shop.example", "secret1")
	p := e.pair("secret1")

	wantProblem(t, e.do("DELETE", "/auth/delete", creds("ann@shop.example", "wrong12")), 401)
	wantProblem(t, e.do("DELETE", "/auth/delete", creds("nobody@shop.example", "secret1")), 401)
	if r := e.do("DELETE", "/auth/delete", creds("ann@shop.example", "secret1")); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	wantProblem(t, e.do("POST", "/auth/signin", creds("ann@shop.example", "secret1")), 401)
	wantProblem(t, e.do("POST", "/auth/refresh", `{"refresh_token":"`+p.RefreshToken+`"}`), 401)
	wantProblem(t, e.do("DELETE", "/auth/delete", creds("ann@shop.example", "secret1")), 401)
	e.register("ann@shop.example", "newpass1") // the address is free again
}

func TestJWKS_PublishesTheVerificationKey(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", contract.PathJWKS, "")
	var set tokens.JWKS
	r.json(t, &set)
	if r.status != 200 || len(set.Keys) != 1 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	k := set.Keys[0]
	pub := e.svc.Signer().PublicKey()
	if k.Kty != "OKP" || k.Crv != "Ed25519" || k.Alg != "EdDSA" || k.Use != "sig" || k.Kid != tokens.Thumbprint(pub) {
		t.Errorf("jwk = %+v", k)
	}
	if strings.Contains(r.body, `"d"`) {
		t.Error("private key material in JWKS")
	}

	// A backend-style verifier that knows only the JWKS URL accepts auth's tokens.
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	e.register("ann@shop.example", "secret1")
	tok := e.do("POST", "/auth/signin", creds("ann@shop.example", "secret1")).body
	jc, err := tokens.NewJWKSClient(t.Context(), srv.URL+contract.PathJWKS)
	if err != nil {
		t.Fatal(err)
	}
	v := tokens.NewVerifier(jc, contract.DefaultIssuer, contract.DefaultAudience)
	c, err := v.Verify(context.Background(), tok)
	if err != nil || c.Email != "ann@shop.example" {
		t.Fatalf("verify through JWKS: %+v %v", c, err)
	}
}

func TestProbesAndMetrics_OnTheManagementPortOnly(t *testing.T) {
	e := newEnv(t)
	mgmt := func(path string) resp {
		req := httptest.NewRequest("GET", path, nil)
		rec := httptest.NewRecorder()
		e.mgmt.ServeHTTP(rec, req)
		return resp{status: rec.Code, header: rec.Header(), body: rec.Body.String()}
	}
	if r := mgmt(contract.PathHealthz); r.status != 200 {
		t.Errorf("healthz %d", r.status)
	}
	if r := mgmt(contract.PathReadyz); r.status != 200 || !strings.Contains(r.body, `"mongodb":"ok"`) {
		t.Errorf("readyz %d %s", r.status, r.body)
	}
	e.do("POST", "/auth/signin", creds("x@shop.example", "secret1"))
	r := mgmt(contract.PathMetrics)
	if r.status != 200 || !strings.Contains(r.body, `littleecom_http_requests_total{method="POST",route="POST /auth/signin",service="auth",status="401"} 1`) {
		t.Errorf("metrics %d:\n%s", r.status, r.body)
	}
	// The public port, which the Ingress reaches, serves none of them.
	for _, path := range []string{contract.PathHealthz, contract.PathReadyz, contract.PathMetrics} {
		wantProblem(t, e.do("GET", path, ""), 404)
	}
	wantProblem(t, e.do("GET", "/auth/nowhere", ""), 404)
	r = e.do("GET", "/auth/signin", "")
	wantProblem(t, r, 405)
	if r.header.Get("Allow") == "" {
		t.Error("405 without Allow")
	}
}

func TestNoSecretsInLogs(t *testing.T) {
	e := newEnv(t)
	const password = "pa55-word-never-logged"
	e.register("ann@shop.example", password)
	p := e.pair(password)
	e.do("POST", "/auth/signin", creds("ann@shop.example", "wrong-pa55word"))
	e.do("POST", "/auth/refresh", `{"refresh_token":"`+p.RefreshToken+`"}`)
	e.do("POST", "/auth/refresh", `{"refresh_token":"`+p.RefreshToken+`"}`) // reuse: logged warning
	e.do("DELETE", "/auth/delete", creds("ann@shop.example", password))
	logs := e.logs.String()
	for _, secret := range []string{password, "wrong-pa55word", p.RefreshToken, p.AccessToken, hashToken(p.RefreshToken)} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains a secret %q", secret)
		}
	}
	if !strings.Contains(logs, `"route":"POST /auth/token"`) {
		t.Errorf("request log missing:\n%s", logs)
	}
}

func TestCORSPreflightWhenEnabled(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.CORS.Enabled, c.CORS.AllowOrigins = true, []string{"*"} })
	r := e.do("OPTIONS", "/auth/signin", "", func(r *http.Request) {
		r.Header.Set("Origin", "https://shop.example")
		r.Header.Set("Access-Control-Request-Method", "POST")
	})
	if r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("%d %v", r.status, r.header)
	}
	e = newEnv(t) // disabled: the edge answers CORS
	r = e.do("GET", contract.PathJWKS, "", func(r *http.Request) { r.Header.Set("Origin", "https://shop.example") })
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("CORS header while disabled: %v", r.header)
	}
}

func TestRoutes(t *testing.T) {
	got := strings.Join(Routes(), "\n")
	for _, want := range []string{"POST /auth/register", "POST /auth/signin", "DELETE /auth/delete", "GET " + contract.PathJWKS} {
		if !strings.Contains(got, want) {
			t.Errorf("Routes() lacks %q", want)
		}
	}
}

// Registering an address that has an account answers exactly like registering a new one:
// status, headers that matter, body, and about the same time (a bcrypt hash either way).
// The taken account is untouched.
func TestRegister_TakenAddressAnswersLikeANewOne(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.BcryptCost = bcrypt.DefaultCost }) // timing is bcrypt's, as in production
	e.register("ann@shop.example", "secret1")

	fresh := e.do("POST", "/auth/register", creds("bob@shop.example", "secret1"))
	taken := e.do("POST", "/auth/register", creds("  ANN@Shop.Example ", "attacker1"))
	if fresh.status != 201 || taken.status != 201 {
		t.Fatalf("statuses %d and %d, want 201 both", fresh.status, taken.status)
	}
	if strings.ReplaceAll(fresh.body, "bob", "ann") != taken.body {
		t.Errorf("bodies differ beyond the address: %q vs %q", fresh.body, taken.body)
	}
	for _, h := range []string{"Content-Type", "Cache-Control", "Location", "Set-Cookie"} {
		if fresh.header.Get(h) != taken.header.Get(h) {
			t.Errorf("header %s: %q vs %q", h, fresh.header.Get(h), taken.header.Get(h))
		}
	}
	if r := e.do("POST", "/auth/signin", creds("ann@shop.example", "secret1")); r.status != 200 {
		t.Errorf("the owner's password after a registration of the taken address: %d", r.status)
	}
	wantProblem(t, e.do("POST", "/auth/signin", creds("ann@shop.example", "attacker1")), 401)

	// Timing: medians of alternating rounds, within a factor of two of each other.
	var freshTimes, takenTimes []time.Duration
	for i := range 7 {
		start := time.Now()
		e.do("POST", "/auth/register", creds(fmt.Sprintf("new%d@shop.example", i), "secret1"))
		freshTimes = append(freshTimes, time.Since(start))
		start = time.Now()
		e.do("POST", "/auth/register", creds("ann@shop.example", "secret1"))
		takenTimes = append(takenTimes, time.Since(start))
	}
	f, tk := median(freshTimes), median(takenTimes)
	t.Logf("median registration: new address %v, taken address %v", f, tk)
	if tk < f/2 || tk > 2*f {
		t.Errorf("a taken address takes %v, a new one %v: the timing tells them apart", tk, f)
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// Deleting an account leaves a record the backend reads: the account's id and address.
func TestDelete_RecordsTheDeletionForTheBackend(t *testing.T) {
	e := newEnv(t)
	e.register("ann@shop.example", "secret1")
	e.register("bob@shop.example", "secret1") // stays
	tok := e.do("POST", "/auth/signin", creds("ann@shop.example", "secret1")).body
	c, err := e.svc.verifier.Verify(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if r := e.do("DELETE", "/auth/delete", creds("ann@shop.example", "secret1")); r.status != 204 {
		t.Fatalf("delete: %d", r.status)
	}
	var rec accountdeletion.Record
	if err := e.db.Collection(contract.CollAccountDeletions).FindOne(t.Context(), bson.D{}).Decode(&rec); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.db.Collection(contract.CollAccountDeletions).CountDocuments(t.Context(), bson.D{}); n != 1 {
		t.Errorf("%d deletion records, want ann's alone", n)
	}
	if rec.AccountID != c.Subject || rec.Email != "ann@shop.example" ||
		rec.ExpiresAt.Sub(rec.DeletedAt) != accountdeletion.Retention || time.Since(rec.DeletedAt) > time.Minute {
		t.Errorf("record = %+v, want the account %s", rec, c.Subject)
	}
	// The address registered again is a new account: another id.
	e.register("ann@shop.example", "secret2")
	tok = e.do("POST", "/auth/signin", creds("ann@shop.example", "secret2")).body
	if c2, err := e.svc.verifier.Verify(t.Context(), tok); err != nil || c2.Subject == c.Subject {
		t.Errorf("the new account's subject %v equals the deleted one's (%v)", c2, err)
	}
}

// tamperSignature changes the first character of the token's signature. The last characters
// will not do: an Ed25519 signature's last byte is nearly always small and base64 ignores the
// final character's spare bits, so overwriting them with "AAA" now and then changes nothing.
func tamperSignature(tok string) string {
	i := strings.LastIndexByte(tok, '.') + 1
	c := byte('A')
	if tok[i] == 'A' {
		c = 'B'
	}
	return tok[:i] + string(c) + tok[i+1:]
}
