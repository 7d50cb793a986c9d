// Package auth is the shop's account service: registration, sign-in issuing EdDSA access
// tokens and rotating opaque refresh tokens, validation for old clients, account deletion,
// and the JWKS that lets backend verify tokens without calling auth.
//
// Accounts and refresh tokens live in MongoDB (contract.DatabaseAuth). FerretDB's
// conditional updates are not atomic, so the one thing that must happen exactly once — a
// refresh token being rotated — is claimed by inserting its successor under a unique index on
// the parent token (see refresh.go). The sign-in and registration limits are shared by all
// replicas through the same database, with the same kind of claim (ratelimit.go says why no
// rate-limit library fits).
package auth
