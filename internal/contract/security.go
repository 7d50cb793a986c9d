package contract

// Health and metrics live on a port of their own, which no Ingress, HTTPRoute or dev gateway
// route reaches: probes and scrapers use it, shoppers never see it. The public port
// (EnvHTTPAddr) serves the shop's API only.
const (
	// EnvManagementAddr is the listen address of the management server: PathHealthz,
	// PathReadyz and PathMetrics (default ":8081").
	EnvManagementAddr = "MANAGEMENT_ADDR"
	// ManagementPort is the management server's port inside the pod.
	ManagementPort = 8081
)

// Auth's abuse limits, shared by every auth replica (slots in MongoDB). A client is an IPv4
// address or an IPv6 /64 (one subscriber's network), as X-Forwarded-For from a trusted proxy
// (EnvTrustedProxies) or the peer says.
const (
	// EnvAuthSignInFailuresPerAccount is how many failed sign-ins one account may take from
	// one client in each 15 minutes (default 10). Successful sign-ins spend nothing, and
	// failures from one client never lock the owner out from another.
	EnvAuthSignInFailuresPerAccount = "AUTH_SIGNIN_FAILURES_PER_ACCOUNT"
	// EnvAuthSignInFailuresPerClient is how many failed sign-ins one client may make, over
	// all accounts, in each 15 minutes (default 100).
	EnvAuthSignInFailuresPerClient = "AUTH_SIGNIN_FAILURES_PER_CLIENT"
	// EnvAuthRegisterPerClient is how many registrations one client may make per minute
	// (default 40: an office behind one address still registers a few dozen).
	EnvAuthRegisterPerClient = "AUTH_REGISTER_PER_CLIENT_PER_MINUTE"
	// EnvAuthRegisterPerMinute is how many registrations the whole shop takes per minute,
	// from all clients together (default 600): each costs a bcrypt hash.
	EnvAuthRegisterPerMinute = "AUTH_REGISTER_PER_MINUTE"
)

// CollAccountDeletions is the collection in DatabaseAuth where auth records every deleted
// account ({_id: account id, email, deleted_at, expires_at}). The backend reads it (find
// only) to take the account's unsold listings off sale and to refuse its remaining access
// tokens; its MongoDB user needs that one privilege on this one collection.
const CollAccountDeletions = "account_deletions"
