package mongors

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// MongoDB error codes the replica-set code reacts to (src/mongo/base/error_codes.yml).
const (
	CodeRoleNotFound                           = 31
	CodeAuthenticationFailed                   = 18
	CodeAlreadyInitialized                     = 23
	CodeExceededTimeLimit                      = 50
	CodeNotYetInitialized                      = 94
	CodeNewReplicaSetConfigurationIncompatible = 103
	CodeConfigurationInProgress                = 109
	CodePrimarySteppedDown                     = 189
	CodeCurrentConfigNotCommittedYet           = 308
	CodeNotWritablePrimary                     = 10107
	CodeInterruptedDueToReplStateChange        = 11602
	CodeNotPrimaryNoSecondaryOk                = 13435
	CodeNotPrimaryOrSecondary                  = 13436
	CodeRoleAlreadyExists                      = 51002
	CodeUserAlreadyExists                      = 51003
)

// DefaultTimeout bounds connecting, server selection and every command when Target.Timeout
// is zero.
const DefaultTimeout = 10 * time.Second

// Target says which mongod to talk to and how.
type Target struct {
	// Host is host:port; the reconciler passes pod 0's stable DNS name (Topology.Host(0)).
	Host string
	// Username and Password are the root credentials; they authenticate against "admin".
	// An empty Username connects without authentication.
	Username string
	Password string
	// DirectConnection talks to Host alone instead of discovering the replica set. The
	// reconciler always sets it: before initiation there is no set to discover, and after
	// it the set's member names may not resolve from where the operator runs.
	DirectConnection bool
	// Timeout bounds connecting, server selection and each command; DefaultTimeout if zero.
	Timeout time.Duration
}

func (t Target) timeout() time.Duration {
	if t.Timeout > 0 {
		return t.Timeout
	}
	return DefaultTimeout
}

// Member states as replSetGetStatus reports them in stateStr.
const (
	StatePrimary    = "PRIMARY"
	StateSecondary  = "SECONDARY"
	StateArbiter    = "ARBITER"
	StateStartup    = "STARTUP"
	StateStartup2   = "STARTUP2"
	StateRecovering = "RECOVERING"
)

// Status is what replSetGetStatus reports, reduced to what the operator shows and decides on.
type Status struct {
	// Initialized is false when the node answered NotYetInitialized (94).
	Initialized bool
	// SetName is the replica set's name.
	SetName string
	// Primary is the primary's host:port, empty when the set has none.
	Primary string
	// Members lists every member of the config, as the node sees them.
	Members []MemberStatus
}

// MemberStatus is one member as replSetGetStatus reports it.
type MemberStatus struct {
	ID     int
	Name   string
	State  string
	Health bool
	Self   bool
}

// Member returns the status of the member with the given _id.
func (s Status) Member(id int) (MemberStatus, bool) {
	for _, m := range s.Members {
		if m.ID == id {
			return m, true
		}
	}
	return MemberStatus{}, false
}

// Healthy reports whether the member is up and serving (PRIMARY, SECONDARY or ARBITER).
func (m MemberStatus) Healthy() bool {
	return m.Health && (m.State == StatePrimary || m.State == StateSecondary || m.State == StateArbiter)
}

// Role is a MongoDB role grant, e.g. {Role: "readWrite", DB: "ecom"}.
type Role struct {
	Role string `bson:"role"`
	DB   string `bson:"db"`
}

// Privilege is what a custom role allows: actions (e.g. "find") on one collection.
type Privilege struct {
	Resource Resource `bson:"resource"`
	Actions  []string `bson:"actions"`
}

// Resource is a collection in a database.
type Resource struct {
	DB         string `bson:"db"`
	Collection string `bson:"collection"`
}

// Client runs the replica-set commands against one mongod. Every call is bounded by the
// Target's timeout (or an earlier context deadline).
type Client interface {
	// Status runs replSetGetStatus; NotYetInitialized (94) gives Status{Initialized: false}.
	Status(ctx context.Context) (Status, error)
	// Initiate runs replSetInitiate; AlreadyInitialized (23) counts as success.
	Initiate(ctx context.Context, cfg Config) error
	// Config runs replSetGetConfig.
	Config(ctx context.Context) (Config, error)
	// Reconfig runs replSetReconfig; the node must be the primary.
	Reconfig(ctx context.Context, cfg Config) error
	// StepDown asks the primary to step down for d. A connection the server closes because
	// of the step-down counts as success.
	StepDown(ctx context.Context, d time.Duration) error
	// EnsureUser creates the user in db, or when it exists (51003) updates its password and
	// roles to the given ones.
	EnsureUser(ctx context.Context, db, user, password string, roles []Role) error
	// EnsureRole creates the custom role in db with exactly the given privileges (and no
	// inherited roles), or when it exists (51002) updates it to them.
	EnsureRole(ctx context.Context, db, role string, privileges []Privilege) error
	// Close disconnects.
	Close(ctx context.Context) error
}

// Dialer makes Clients; the reconciler holds one, and its tests swap in a double.
type Dialer interface {
	Dial(ctx context.Context, target Target) (Client, error)
}

// DialerFunc adapts a function to a Dialer, for tests that hand out their own Clients.
type DialerFunc func(ctx context.Context, target Target) (Client, error)

// Dial calls f.
func (f DialerFunc) Dial(ctx context.Context, target Target) (Client, error) { return f(ctx, target) }

// Error is a failed replica-set operation. Its message names the operation and the host and
// never contains a password: the text is redacted before it is stored.
type Error struct {
	// Op is the command or step, e.g. "replSetInitiate" or "connect".
	Op string
	// Host is the host:port the operation went to.
	Host string
	// Code is MongoDB's error code, 0 when the failure was not a server error.
	Code int
	// Timeout reports a deadline or server-selection timeout.
	Timeout bool
	msg     string
	err     error
}

func (e *Error) Error() string {
	return fmt.Sprintf("mongodb %s on %s: %s", e.Op, e.Host, e.msg)
}

// Unwrap returns the underlying error for errors.Is checks (context.DeadlineExceeded).
// Its text is not redacted: log the *Error, not what it wraps.
func (e *Error) Unwrap() error { return e.err }

// newError wraps err, redacting every secret from the message.
func newError(op, host string, code int, timeout bool, err error, secrets ...string) *Error {
	msg := err.Error()
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "******")
		}
	}
	return &Error{Op: op, Host: host, Code: code, Timeout: timeout, msg: msg, err: err}
}

// HasCode reports whether err is an *Error carrying one of the MongoDB codes.
func HasCode(err error, codes ...int) bool {
	e, ok := errors.AsType[*Error](err)
	return ok && slices.Contains(codes, e.Code)
}
