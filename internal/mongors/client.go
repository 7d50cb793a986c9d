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
	CodeBadValue                               = 2
	CodeUnauthorized                           = 13
	CodeAuthenticationFailed                   = 18
	CodeAlreadyInitialized                     = 23
	CodeRoleNotFound                           = 31
	CodeMaxTimeMSExpired                       = 50
	CodeWriteConcernFailed                     = 64
	CodeNodeNotFound                           = 74
	CodeNoReplicationEnabled                   = 76
	CodeInvalidReplicaSetConfig                = 93
	CodeNotYetInitialized                      = 94
	CodeNewReplicaSetConfigurationIncompatible = 103
	CodeNodeNotElectable                       = 104
	CodeConfigurationInProgress                = 109
	CodePrimarySteppedDown                     = 189
	CodeExceededTimeLimit                      = 262
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

// DefaultReconfigTimeout bounds replSetReconfig and replSetStepDown when
// Target.ReconfigTimeout is zero. It must outlast what mongod may take before it answers:
// a reconfig's quorum check waits up to heartbeatTimeoutSecs (10 s) for members that do not
// answer, and a step-down waits secondaryCatchUpPeriodSecs (10 s here) for a secondary to
// catch up. With a shorter timeout the driver gives up first and the operator learns
// nothing (a timeout) where mongod would have said what is wrong.
const DefaultReconfigTimeout = 15 * time.Second

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
	// ReconfigTimeout bounds replSetReconfig and replSetStepDown; DefaultReconfigTimeout if
	// zero, never less than Timeout.
	ReconfigTimeout time.Duration
	// PreviousPassword is root's password as the operator last set it. When MongoDB refuses
	// Password (AuthenticationFailed) and PreviousPassword differs, Ensure logs in with it
	// and changes root's password to Password: mongod's entrypoint creates root once, at
	// first start, so a changed Secret reaches the database only this way.
	PreviousPassword string
}

func (t Target) timeout() time.Duration {
	if t.Timeout > 0 {
		return t.Timeout
	}
	return DefaultTimeout
}

func (t Target) reconfigTimeout() time.Duration {
	d := t.ReconfigTimeout
	if d <= 0 {
		d = DefaultReconfigTimeout
	}
	return max(d, t.timeout())
}

// Member states as replSetGetStatus reports them in stateStr.
const (
	StatePrimary    = "PRIMARY"
	StateSecondary  = "SECONDARY"
	StateArbiter    = "ARBITER"
	StateStartup    = "STARTUP"
	StateStartup2   = "STARTUP2"
	StateRecovering = "RECOVERING"
	// StateUnknown is a member the node has not heard from yet (health -1): one just added.
	StateUnknown = "UNKNOWN"
)

// Status is what replSetGetStatus reports, reduced to what the operator shows and decides on.
type Status struct {
	// Initialized is false when the node answered NotYetInitialized (94).
	Initialized bool
	// Removed is true when the node has a config that does not contain it: mongod answers
	// InvalidReplicaSetConfig (93) and reports the state REMOVED. It was removed from the set
	// (a pod that returns with its old volume after a scale-down), or it cannot find itself
	// in the config (its own name does not resolve to it yet). Members is then empty.
	Removed bool
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
	// Initiate runs replSetInitiate. AlreadyInitialized (23) is returned as an *Error: it
	// also comes from a node that reported NotYetInitialized a moment ago because it was
	// still loading its stored config, so it does not mean "initiated by us".
	Initiate(ctx context.Context, cfg Config) error
	// Config runs replSetGetConfig.
	Config(ctx context.Context) (Config, error)
	// Reconfig runs replSetReconfig; the node must be the primary.
	Reconfig(ctx context.Context, cfg Config) error
	// StepDown asks the primary to step down for d, waiting up to min(d/2, 10 s) for an
	// electable secondary to catch up (mongod answers ExceededTimeLimit, 262, when none
	// does). A connection the server closes because of the step-down counts as success.
	StepDown(ctx context.Context, d time.Duration) error
	// ChangePassword runs updateUser with only a new password, keeping the user's roles.
	ChangePassword(ctx context.Context, db, user, password string) error
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
	// WriteConcern reports a command that was carried out on the primary but not confirmed
	// by a majority in time (ok: 1 with a writeConcernError; Code is that error's code).
	WriteConcern bool
	msg          string
	err          error
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
