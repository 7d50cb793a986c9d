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

// E-mail verification, off by default (the original clients sign in right after they
// register). When on, a new account signs in only after following the link auth mails it
// through the notifier: auth publishes AccountEvent with RoutingKeyAccountVerify to Exchange
// (it then needs EnvAMQPURL and a RabbitMQ user that may write to Exchange).
const (
	// EnvAuthEmailVerification turns verification on ("true"; default false).
	EnvAuthEmailVerification = "AUTH_EMAIL_VERIFICATION"
	// EnvAuthPublicURL is the shop's public base URL (e.g. https://shop.example.com), which
	// the verification link starts with; required when verification is on.
	EnvAuthPublicURL = "AUTH_PUBLIC_URL"
	// PathVerifyEmail is auth's route that a verification link points at (?token=...).
	PathVerifyEmail = "/auth/verify"

	RoutingKeyAccountVerify = "ecom.account.verify"
	QueueAccountVerify      = "ecom-queue-account-verify"
)

// VerifyWorkQueue is the queue of verification mails, which the notifier consumes when it
// exists. It is not (yet) part of WorkQueues and the operator's definitions: a shop without
// verification needs no such queue, and the notifier's least-privilege user cannot declare
// it, so the notifier consumes it only where it was declared (by the operator's definitions
// when verification is on, by the notifier itself on a broker where it may).
var VerifyWorkQueue = WorkQueue{Queue: QueueAccountVerify, RoutingKey: RoutingKeyAccountVerify}

// AccountEvent is the JSON body of RoutingKeyAccountVerify: whom to write and the link the
// mail carries. EventID is unique per mail (a new link is a new event).
type AccountEvent struct {
	Email      string `json:"email"`
	Link       string `json:"link"`
	EventID    string `json:"event_id"`
	OccurredAt string `json:"occurred_at,omitempty"`
}
