package contract

// Auth's sign-in protection. Behind an Ingress every request comes from the controller's
// address, so the per-client-IP limit needs to know whose X-Forwarded-For to believe.
const (
	// EnvTrustedProxies is a comma-separated list of CIDRs (e.g. the pod network) whose
	// X-Forwarded-For header is trusted to name the client. Empty: use the peer address.
	EnvTrustedProxies = "TRUSTED_PROXIES"
	// EnvAuthSignInPerMinute is how many sign-in attempts one e-mail, and one client IP, may
	// make per minute (default 10).
	EnvAuthSignInPerMinute = "AUTH_SIGNIN_PER_MINUTE"
)
