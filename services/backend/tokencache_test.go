package backend

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"littleecom.io/littleecom/services/internal/tokens"
)

type countingVerifier struct {
	calls  int
	claims *tokens.Claims
	err    error
}

func (v *countingVerifier) Verify(context.Context, string) (*tokens.Claims, error) {
	v.calls++
	return v.claims, v.err
}

func TestTokenCache(t *testing.T) {
	now := time.Now()
	exp := now.Add(30 * time.Second) // expires before tokenCacheMaxAge
	inner := &countingVerifier{claims: &tokens.Claims{Email: "a@example.com",
		RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(exp)}}}
	c := newTokenCache(inner)
	c.now = func() time.Time { return now }
	ctx := context.Background()

	for range 3 {
		if cl, err := c.Verify(ctx, "tok"); err != nil || cl.Email != "a@example.com" {
			t.Fatalf("Verify = %v, %v", cl, err)
		}
	}
	if inner.calls != 1 {
		t.Errorf("inner verifier called %d times, want 1", inner.calls)
	}
	if _, _ = c.Verify(ctx, "tok2"); inner.calls != 2 {
		t.Errorf("another token must be verified itself")
	}

	// At expiry the token is verified again (and the inner verifier refuses it).
	now = exp.Add(time.Millisecond)
	inner.err, inner.claims = errors.New("expired"), nil
	if _, err := c.Verify(ctx, "tok"); err == nil {
		t.Error("expired token accepted from the cache")
	}
	// Refusals are not cached.
	inner.err = nil
	inner.claims = &tokens.Claims{Email: "b@example.com"}
	if cl, err := c.Verify(ctx, "bad"); err != nil || cl.Email != "b@example.com" {
		t.Errorf("after a refusal: %v, %v", cl, err)
	}
}
