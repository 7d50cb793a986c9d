package cluster

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/golang-jwt/jwt/v5"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"littleecom.io/littleecom/internal/contract"
)

// tokenMinter signs access tokens as auth does: with the shop's own key (the Secret the
// operator generated), and the kid, issuer and audience of a token auth issued. The buy race
// needs more buyers than auth lets sign in from one client address in a minute (every
// request through the ingress controller comes from the same one); the backend verifies
// these tokens exactly as it verifies auth's, so nothing about the buy changes.
type tokenMinter struct {
	key      ed25519.PrivateKey
	kid, iss string
	aud      jwt.ClaimStrings
}

// newTokenMinter copies kid, issuer and audience from issued, a token auth signed.
func newTokenMinter(ctx context.Context, issued string) tokenMinter {
	GinkgoHelper()
	var secret corev1.Secret
	Expect(k8s.Get(ctx, client.ObjectKey{Namespace: env.namespace, Name: names.AuthSigningKeySecret()}, &secret)).To(Succeed())
	block, _ := pem.Decode(secret.Data[contract.SecretKeySigningKey])
	Expect(block).NotTo(BeNil(), "the signing-key Secret holds no PEM")
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	Expect(err).NotTo(HaveOccurred())
	key, ok := parsed.(ed25519.PrivateKey)
	Expect(ok).To(BeTrue(), "the signing key is a %T, not Ed25519", parsed)

	var claims jwt.RegisteredClaims
	tok, _, err := jwt.NewParser().ParseUnverified(issued, &claims)
	Expect(err).NotTo(HaveOccurred(), "parsing a token auth issued")
	kid, _ := tok.Header["kid"].(string)
	Expect(kid).NotTo(BeEmpty(), "auth's token has a kid")
	return tokenMinter{key: key, kid: kid, iss: claims.Issuer, aud: claims.Audience}
}

// token returns an access token for email, valid for ten minutes.
func (m tokenMinter) token(email string) string {
	GinkgoHelper()
	now := time.Now().Truncate(time.Second)
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
		"email": email, "sub": email, "iss": m.iss, "aud": m.aud,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	})
	t.Header["kid"] = m.kid
	signed, err := t.SignedString(m.key)
	Expect(err).NotTo(HaveOccurred())
	return signed
}
