// Package tokens issues and verifies the shop's access tokens: EdDSA (Ed25519) JWTs that
// auth signs and publishes the public key of as a JWKS, and that backend verifies locally
// against that JWKS — no call to auth per request. Verification refuses every token that is
// not EdDSA (alg none, HS256 keyed with the public key), expired, or for another issuer or
// audience.
//
// Fetching and caching the JWKS is keyfunc's and jwkset's work. JWKSClient wraps them only
// where they cannot say what the Verifier needs: a refetch for an unknown kid that is rate
// limited without making the request wait, a failed fetch told apart from an unknown kid
// (503, not 401), and Ed25519 keys only. The verified-token cache (cache.go) stays ours:
// it saves the signature check, which no key-fetching library does.
package tokens
