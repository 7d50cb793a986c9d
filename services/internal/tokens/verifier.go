package tokens

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"littleecom.io/littleecom/services/internal/problem"
)

// ErrUnknownKey means no key with the token's kid is known, even after a refresh.
var ErrUnknownKey = errors.New("unknown signing key")

// KeySource finds the public key for a kid. JWKSClient and StaticKeys implement it.
type KeySource interface {
	Key(ctx context.Context, kid string) (ed25519.PublicKey, error)
}

// StaticKeys is a fixed KeySource (auth verifies its own tokens with it; tests use it).
type StaticKeys map[string]ed25519.PublicKey

// Key implements KeySource.
func (s StaticKeys) Key(_ context.Context, kid string) (ed25519.PublicKey, error) {
	if k, ok := s[kid]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("kid %q: %w", kid, ErrUnknownKey)
}

// Leeway tolerates clock skew between auth's and backend's nodes.
const Leeway = 30 * time.Second

// Verifier checks access tokens.
type Verifier struct {
	keys     KeySource
	issuer   string
	audience string
	// Now is the clock; tests replace it.
	Now func() time.Time

	cache *verifiedCache
}

// NewVerifier returns a Verifier accepting only EdDSA tokens signed by a key from keys, for
// issuer and audience, with an unexpired exp. Tokens that verified are remembered until
// they expire (DefaultCacheSize of them), so a key that disappears from keys stops being
// accepted only for tokens not yet seen; use NewVerifierWithCache(…, 0) to check every time.
func NewVerifier(keys KeySource, issuer, audience string) *Verifier {
	return NewVerifierWithCache(keys, issuer, audience, DefaultCacheSize)
}

// NewVerifierWithCache is NewVerifier with a given cache size; 0 disables the cache.
func NewVerifierWithCache(keys KeySource, issuer, audience string, cacheSize int) *Verifier {
	return &Verifier{keys: keys, issuer: issuer, audience: audience, Now: time.Now, cache: newVerifiedCache(cacheSize)}
}

// Verify parses and checks token. Every refusal is a *problem.Error with code Unauthorized
// (401) whose cause says why, so handlers can pass it to problem.Write unchanged; when the
// keys cannot be fetched (auth unreachable, no cached key) it is Unavailable (503).
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	if token == "" {
		return nil, problem.Unauthorizedf("missing token")
	}
	if c, ok := v.cache.get(token, v.Now()); ok {
		return c, nil
	}
	parser := jwt.NewParser(
		// The allow-list is what refuses "none" and HS256-keyed-with-the-public-key.
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(v.issuer),
		jwt.WithAudience(v.audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(v.Now),
	)
	var (
		claims    Claims
		sourceErr error
	)
	_, err := parser.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("token has no kid")
		}
		k, err := v.keys.Key(ctx, kid)
		if err != nil && !errors.Is(err, ErrUnknownKey) {
			sourceErr = err
		}
		return k, err
	})
	if sourceErr != nil {
		// The token may be fine: we could not fetch the keys (auth down). Saying 401 would
		// make clients drop a valid token; 503 makes them retry.
		return nil, &problem.Error{Code: problem.Unavailable, Detail: "cannot verify tokens right now", Err: fmt.Errorf("verify token: %w", sourceErr), RetryAfter: 5 * time.Second}
	}
	if err != nil {
		return nil, &problem.Error{Code: problem.Unauthorized, Detail: reason(err), Err: fmt.Errorf("verify token: %w", err)}
	}
	if claims.Email == "" {
		return nil, problem.Unauthorizedf("token has no email")
	}
	v.cache.put(token, &claims, v.Now())
	return &claims, nil
}

// reason is the client-facing detail: specific enough to act on, nothing about our keys.
func reason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token expired"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer), errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "token not issued for this shop"
	default:
		return "invalid token"
	}
}

// BearerToken extracts the token from "Authorization: Bearer <token>". A bare token without
// a scheme is accepted too, as some of the original shop's clients sent it that way.
func BearerToken(r *http.Request) string {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if scheme, tok, ok := strings.Cut(h, " "); ok {
		if !strings.EqualFold(scheme, "Bearer") {
			return ""
		}
		return strings.TrimSpace(tok)
	}
	return h
}
