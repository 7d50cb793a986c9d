package contract

// Auth's sign-in protection. Behind an Ingress every request comes from the controller's
// address, so the per-client-IP limit needs to know whose X-Forwarded-For to believe.
const (
	// EnvTrustedProxies is a comma-separated list of CIDRs (e.g. the pod network) whose
	// X-Forwarded-For header is trusted to name the client. Empty: use the peer address.
	EnvTrustedProxies = "TRUSTED_PROXIES"
	// EnvAuthSignInPerMinute was a limit on every sign-in attempt per e-mail and per client
	// IP. Deprecated: auth no longer reads it; it counts failures only, see
	// EnvAuthSignInFailuresPerAccount and EnvAuthSignInFailuresPerClient (security.go).
	EnvAuthSignInPerMinute = "AUTH_SIGNIN_PER_MINUTE"
)
