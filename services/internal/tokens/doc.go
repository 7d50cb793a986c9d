// Package tokens issues and verifies the shop's access tokens: EdDSA (Ed25519) JWTs that
// auth signs and publishes the public key of as a JWKS, and that backend verifies locally
// against that JWKS — no call to auth per request. Verification refuses every token that is
// not EdDSA (alg none, HS256 keyed with the public key), expired, or for another issuer or
// audience.
package tokens
