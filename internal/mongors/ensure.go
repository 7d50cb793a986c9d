package mongors

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Default bounds of Ensure's waits.
const (
	DefaultPrimaryWait  = 15 * time.Second
	DefaultPollInterval = 500 * time.Millisecond
	// maxSteps bounds the reconfigs one Ensure runs; the next call continues.
	maxSteps = 8
)

// Desired is the replica set the reconciler wants.
type Desired struct {
	Topology
	// Members is the number of members, ordinals 0..Members-1.
	Members int
	// Users are created or updated on the primary once the set has one.
	Users []User
	// CustomRoles are created or updated before Users, which may be granted them.
	CustomRoles []CustomRole
	// PrimaryWait bounds the wait for a primary after initiation; DefaultPrimaryWait if zero.
	PrimaryWait time.Duration
	// PollInterval is the pause between status polls; DefaultPollInterval if zero.
	PollInterval time.Duration
}

// User is a database user the services log in as.
type User struct {
	DB       string
	Name     string
	Password string
	Roles    []Role
}

// CustomRole is a role of the operator's own, for a privilege no built-in role grants
// narrowly enough (one action on one collection of another service's database).
type CustomRole struct {
	DB         string
	Name       string
	Privileges []Privilege
}

// Phase says where Ensure stopped. The values double as condition reasons.
type Phase string

// Phases of Ensure.
const (
	PhaseWaitingForPods    Phase = "WaitingForPods"
	PhaseWaitingForPrimary Phase = "WaitingForPrimary"
	PhaseReconfiguring     Phase = "Reconfiguring"
	PhaseReady             Phase = "Initialized"
	PhaseUnreachable       Phase = "Unreachable"
	// PhaseRejected: MongoDB refused what the operator asked for a reason waiting does not
	// fix (an invalid config, wrong credentials); Ensure returns the refusal as its error.
	// Calling Ensure again is only worth it once something changed.
	PhaseRejected Phase = "Rejected"
)

// Result is what Ensure did and saw. When Ready is false and the error is nil, the set is on
// its way (a primary is being elected, a new member catches up): call Ensure again later.
type Result struct {
	// Ready is true when the set is initialized, has a primary, has exactly the desired
	// members and every user was ensured.
	Ready bool
	Phase Phase
	// Message says what Ensure waits for; it never contains a password.
	Message string
	// Initiated is true when this call ran replSetInitiate.
	Initiated bool
	// Reconfigs counts the replSetReconfig commands this call ran.
	Reconfigs int
	// Status is the last replSetGetStatus seen.
	Status Status
	// ConfigVersion is the last config version seen or set.
	ConfigVersion int64
	// RootPasswordChanged is true when this call changed root's password in MongoDB from
	// Target.PreviousPassword to Target.Password.
	RootPasswordChanged bool

	steppedDown string // the primary this call asked to step down, until Ensure returns
}

func notYet(res Result, phase Phase, format string, args ...any) (Result, error) {
	res.Ready, res.Phase, res.Message = false, phase, fmt.Sprintf(format, args...)
	return res, nil
}

// Ensure brings the replica set to desired, one idempotent step after another:
// status → initiate when NotYetInitialized → wait (bounded) for a primary → reconfig, one
// member per step, on the primary → ensure users on the primary.
//
// Each step first reads what MongoDB reports and derives the next action from it, never
// from what an earlier call did, so a crash or error between any two steps is resumed by
// calling Ensure again:
//   - initiate succeeded but nobody recorded it: status says initialized, no second initiate;
//   - pod 0 reports NotYetInitialized but another member already belongs to a set (pod 0
//     lost its volume): no initiate, which would create a second set; wait for pod 0 to
//     receive the config from its peers;
//   - a reconfig is in progress (ConfigurationInProgress, CurrentConfigNotCommittedYet) or
//     a new member still catches up: wait, the next call recomputes from the current config;
//   - the primary moved or stepped down: it is found again from status and dialled directly.
//
// target.Host defaults to member 0; target's credentials are used for every member.
// Every command is bounded by target.Timeout and the wait for a primary by
// desired.PrimaryWait; at most a few reconfigs run per call. A reconciler should still pass
// a ctx with a deadline, and requeue with back-off while Result.Ready is false.
// Users are written on every call (createUser, then updateUser when they exist), so a
// reconciler that wants no writes in steady state calls Ensure when something changed or
// the last Result was not Ready.
func Ensure(ctx context.Context, dialer Dialer, target Target, desired Desired) (Result, error) {
	var res Result
	if desired.Members < 1 {
		return res, fmt.Errorf("mongodb replica set %q: members must be at least 1, got %d", desired.ReplicaSet, desired.Members)
	}
	if target.Host == "" {
		target.Host = desired.Host(0)
	}
	c, err := dialer.Dial(ctx, target)
	if HasCode(err, CodeAuthenticationFailed) && target.PreviousPassword != "" && target.PreviousPassword != target.Password {
		r, rerr, stop := rotateRoot(ctx, dialer, target, desired, res)
		if stop {
			return r, rerr
		}
		res = r
		c, err = dialer.Dial(ctx, target)
	}
	if err != nil {
		return fail(res, err)
	}
	defer func() { _ = c.Close(context.WithoutCancel(ctx)) }()

	st, err := c.Status(ctx)
	if HasCode(err, CodeNoReplicationEnabled) {
		return notYet(res, PhaseWaitingForPods, "%s runs without --replSet (the image's first start, creating the root user); waiting for it to restart as a replica-set member", target.Host)
	}
	if err != nil {
		return fail(res, err)
	}
	res.Status = st
	if st.Removed {
		// This member is not in its own config: ask the others for the primary.
		if st, err = statusFromPeers(ctx, dialer, target, desired); err != nil {
			return fail(res, err)
		}
		res.Status = st
		if st.Primary == "" {
			return notYet(res, PhaseWaitingForPrimary, "%s is not in its replica-set config (REMOVED) and no other member reports a primary", target.Host)
		}
	}
	if !st.Initialized {
		r, err, stop := initiate(ctx, dialer, target, desired, c, res)
		if stop {
			return r, err
		}
		res = r
	}

	st, err = waitForPrimary(ctx, c, desired, res.Status, "")
	res.Status = st
	if err != nil {
		return fail(res, err)
	}
	if st.Primary == "" {
		return notYet(res, PhaseWaitingForPrimary, "replica set %q has no primary yet", desired.ReplicaSet)
	}
	if st.SetName != desired.ReplicaSet {
		res.Phase = PhaseRejected
		return res, fmt.Errorf("mongodb %s belongs to replica set %q, want %q", target.Host, st.SetName, desired.ReplicaSet)
	}

	res, err = onPrimary(ctx, dialer, target, c, desired, res)
	if old := res.steppedDown; err == nil && old != "" {
		// The primary stepped down to leave the set: its successor is usually elected within
		// a second, so wait for it (bounded) and go on with it rather than in a later call.
		if st, werr := waitForPrimary(ctx, c, desired, Status{}, old); werr == nil && st.Primary != "" && st.Primary != old {
			res.Status, res.steppedDown = st, ""
			res, err = onPrimary(ctx, dialer, target, c, desired, res)
		}
	}
	res.steppedDown = ""
	return res, err
}

// onPrimary runs the reconfigs and the users on the primary res.Status names, dialled
// directly unless c is it.
func onPrimary(ctx context.Context, dialer Dialer, target Target, c Client, desired Desired, res Result) (Result, error) {
	st := res.Status
	pc := c
	if self, ok := selfStatus(st); !ok || self.Name != st.Primary {
		pt := target
		pt.Host = st.Primary
		var err error
		if pc, err = dialer.Dial(ctx, pt); err != nil {
			return notYet(res, PhaseReconfiguring, "primary %s does not answer: %v", st.Primary, err)
		}
		defer func() { _ = pc.Close(context.WithoutCancel(ctx)) }()
	}
	res, err, stop := reconfigure(ctx, pc, desired, res)
	if stop {
		return res, err
	}
	return ensureUsers(ctx, pc, desired.CustomRoles, desired.Users, res)
}

// ensureUsers creates or updates the roles, then the users, on the primary pc; the set is
// then Ready.
func ensureUsers(ctx context.Context, pc Client, roles []CustomRole, users []User, res Result) (Result, error) {
	for _, r := range roles {
		if err := pc.EnsureRole(ctx, r.DB, r.Name, r.Privileges); err != nil {
			return failOrWait(res, err)
		}
	}
	for _, u := range users {
		err := pc.EnsureUser(ctx, u.DB, u.Name, u.Password, u.Roles)
		if e, ok := errors.AsType[*Error](err); ok && e.WriteConcern {
			// Right after initiation or a scale-up the members are still in initial sync:
			// the user is written on the primary, a majority has not confirmed it yet.
			return notYet(res, PhaseReconfiguring, "user %s is written on the primary; waiting for a majority of members to replicate it", u.Name)
		}
		if err != nil {
			return failOrWait(res, err)
		}
	}
	res.Ready, res.Phase, res.Message = true, PhaseReady, ""
	return res, nil
}

// failOrWait reports err as something to wait for when a retry may succeed, and as a
// failure (fail) otherwise.
func failOrWait(res Result, err error) (Result, error) {
	if transient(err) {
		return notYet(res, PhaseReconfiguring, "%v", err)
	}
	return fail(res, err)
}

// fail returns err with PhaseRejected when waiting will not fix it, else PhaseUnreachable.
func fail(res Result, err error) (Result, error) {
	res.Ready, res.Phase = false, PhaseUnreachable
	if permanent(err) {
		res.Phase = PhaseRejected
	}
	return res, err
}

// halt is the stop answer of a step of Ensure: Ensure returns r, err.
func halt(r Result, err error) (Result, error, bool) { return r, err, true }

// initiate runs replSetInitiate on c unless another member already belongs to a set or does
// not answer. stop is true when Ensure must return r, err.
func initiate(ctx context.Context, dialer Dialer, target Target, desired Desired, c Client, res Result) (r Result, err error, stop bool) {
	// Every member must answer before replSetInitiate (mongod's quorum check needs them),
	// and none may already belong to a set: initiating pod 0 then would make a second set.
	for i := 1; i < desired.Members; i++ {
		mt := target
		mt.Host = desired.Host(i)
		oc, err := dialer.Dial(ctx, mt)
		if err != nil {
			r, err := notYet(res, PhaseWaitingForPods, "member %d does not answer: %v", i, err)
			return r, err, true
		}
		ost, err := oc.Status(ctx)
		_ = oc.Close(context.WithoutCancel(ctx))
		if err != nil {
			r, err := notYet(res, PhaseWaitingForPods, "member %d: %v", i, err)
			return r, err, true
		}
		if ost.Initialized {
			r, err := notYet(res, PhaseWaitingForPods,
				"%s has no replica-set config but member %d belongs to set %q: not initiating again, waiting for %s to receive the config from its peers",
				target.Host, i, ost.SetName, target.Host)
			return r, err, true
		}
	}
	ierr := c.Initiate(ctx, InitialConfig(desired.Topology, desired.Members))
	switch {
	case HasCode(ierr, CodeAlreadyInitialized):
		// The node has a config after all: it was still loading it when it answered
		// NotYetInitialized, or someone initiated it meanwhile. Nothing to do.
	case ierr != nil:
		r, err := fail(res, ierr)
		return r, err, true
	default:
		res.Initiated = true
	}
	return res, nil, false
}

// waitForPrimary polls c until the set has a primary or desired.PrimaryWait has passed.
// A primary named not (one that just stepped down, still reported by a node that has not
// heard yet) does not count.
func waitForPrimary(ctx context.Context, c Client, desired Desired, st Status, not string) (Status, error) {
	wait, poll := desired.PrimaryWait, desired.PollInterval
	if wait <= 0 {
		wait = DefaultPrimaryWait
	}
	if poll <= 0 {
		poll = DefaultPollInterval
	}
	deadline := time.Now().Add(wait)
	for {
		if st.Initialized && st.Primary != "" && st.Primary != not {
			return st, nil
		}
		if time.Now().Add(poll).After(deadline) {
			return st, nil
		}
		select {
		case <-ctx.Done():
			return st, nil
		case <-time.After(poll):
		}
		next, err := c.Status(ctx)
		if err != nil {
			if transient(err) {
				continue
			}
			return st, err
		}
		st = next
	}
}

// gate returns why the step from cur to next must wait, or "". A step that changes the
// voting members or membership waits until every member that stays (ordinal < keep) has
// caught up (not UNKNOWN/STARTUP/STARTUP2/RECOVERING) and a majority of next's voters is healthy, so
// that the previous change is committed before the next one starts. Members on their way
// out are not waited for: a stuck member must not block its own removal.
func gate(st Status, cur, next Config, keep int) string {
	if slices.Equal(cur.VotingIDs(), next.VotingIDs()) && slices.Equal(cur.IDs(), next.IDs()) {
		return ""
	}
	for _, m := range next.Members {
		if _, existing := cur.Member(m.ID); !existing || m.ID >= keep {
			continue
		}
		ms, ok := st.Member(m.ID)
		if !ok {
			return fmt.Sprintf("member %d is not in the replica-set status yet", m.ID)
		}
		switch ms.State {
		case StateUnknown, StateStartup, StateStartup2, StateRecovering:
			return fmt.Sprintf("member %d (%s) is %s; waiting for it to catch up", m.ID, m.Host, ms.State)
		}
	}
	voters := next.VotingIDs()
	healthy := 0
	for _, id := range voters {
		if _, existing := cur.Member(id); !existing {
			// Not in the status yet. mongod marks it newlyAdded, so it does not vote until
			// it caught up, and its quorum check refuses the reconfig (NodeNotFound) when
			// too few members answer: counting it keeps a one-member set able to grow.
			healthy++
			continue
		}
		if ms, ok := st.Member(id); ok && ms.Healthy() {
			healthy++
		}
	}
	if healthy < Majority(len(voters)) {
		return fmt.Sprintf("only %d of the %d voting members of config version %d are healthy; a majority (%d) is needed",
			healthy, len(voters), next.Version, Majority(len(voters)))
	}
	return ""
}

// transient reports errors that go away by waiting: elections, a reconfig in progress or
// not yet committed, a quorum check or step-down that found too few members, timeouts and
// network errors.
func transient(err error) bool {
	if HasCode(err, CodeConfigurationInProgress, CodeCurrentConfigNotCommittedYet,
		CodeNotWritablePrimary, CodeNotPrimaryNoSecondaryOk, CodeNotPrimaryOrSecondary,
		CodeInterruptedDueToReplStateChange, CodePrimarySteppedDown, CodeNodeNotFound,
		CodeMaxTimeMSExpired, CodeExceededTimeLimit, CodeWriteConcernFailed,
		CodeNotYetInitialized, CodeNoReplicationEnabled) {
		return true
	}
	var e *Error
	if errors.As(err, &e) && (e.Timeout || mongo.IsNetworkError(e.err)) {
		return true
	}
	return false
}

// permanent reports refusals that waiting does not fix: an invalid config (93, or 103 for
// a config that is not merely stale, see reconfigFailed), a bad value, wrong credentials or
// missing rights. They are surfaced, not retried in a loop.
func permanent(err error) bool {
	if _, ok := errors.AsType[*RejectedError](err); ok {
		return true
	}
	return HasCode(err, CodeInvalidReplicaSetConfig, CodeBadValue, CodeAuthenticationFailed, CodeUnauthorized)
}

// RejectedError is a refusal Ensure found permanent although its code alone does not say
// so (NewReplicaSetConfigurationIncompatible for a config that was not stale).
type RejectedError struct{ Err error }

func (e *RejectedError) Error() string { return e.Err.Error() }

// Unwrap returns the refusal.
func (e *RejectedError) Unwrap() error { return e.Err }

func selfStatus(st Status) (MemberStatus, bool) {
	for _, m := range st.Members {
		if m.Self {
			return m, true
		}
	}
	return MemberStatus{}, false
}

func memberByHost(cfg Config, host string) (Member, bool) {
	for _, m := range cfg.Members {
		if m.Host == host {
			return m, true
		}
	}
	return Member{}, false
}
