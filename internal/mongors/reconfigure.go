package mongors

import (
	"context"
	"fmt"
	"time"
)

// stepDownFor is how long a primary that is asked to step down stays unelectable: long
// enough for the reconfig that demotes it to follow.
const stepDownFor = 60 * time.Second

// reconfigure moves the config on the primary pc towards desired, one NextConfig step per
// replSetReconfig and at most maxSteps of them, then checks that the set has exactly the
// desired members. stop is true when Ensure must return r, err.
func reconfigure(ctx context.Context, pc Client, desired Desired, res Result) (r Result, err error, stop bool) {
	// The config last read is the one checked at the end: in steady state one read in all.
	var cfg Config
	for step := 0; ; step++ {
		if cfg, err = pc.Config(ctx); err != nil {
			return halt(failOrWait(res, err))
		}
		res.ConfigVersion = cfg.Version
		next, changed := NextConfig(cfg, desired.Topology, desired.Members)
		if !changed || step == maxSteps {
			break
		}
		if msg := gate(res.Status, cfg, next, desired.Members); msg != "" {
			return halt(notYet(res, PhaseReconfiguring, "%s", msg))
		}
		if primary, ok := memberByHost(next, res.Status.Primary); !ok || !primary.electable() {
			// mongod refuses a reconfig that leaves the node running it unelectable
			// (NodeNotElectable, 104): a primary on a member being removed steps down
			// first, and the next primary runs the reconfig.
			return halt(stepDown(ctx, pc, res, res.Status.Primary))
		}
		if err := pc.Reconfig(ctx, next); err != nil {
			return halt(reconfigFailed(ctx, pc, res, cfg, err))
		}
		res.Reconfigs++
		res.ConfigVersion = next.Version
		if res.Status, err = pc.Status(ctx); err != nil {
			return halt(notYet(res, PhaseReconfiguring, "%v", err))
		}
		if self, ok := selfStatus(res.Status); !ok || self.State != StatePrimary {
			return halt(notYet(res, PhaseReconfiguring, "primary moved after reconfig to version %d", next.Version))
		}
	}
	if !SameMembers(cfg, desired.Members) {
		return halt(notYet(res, PhaseReconfiguring, "replica set %q has not reached %d members yet", desired.ReplicaSet, desired.Members))
	}
	return res, nil, false
}

// stepDown asks the primary to step down and reports the wait for the next one.
func stepDown(ctx context.Context, pc Client, res Result, primary string) (Result, error) {
	err := pc.StepDown(ctx, stepDownFor)
	switch {
	case HasCode(err, CodeExceededTimeLimit):
		return notYet(res, PhaseReconfiguring, "primary %s is on a member being removed and no electable secondary has caught up to take over; waiting", primary)
	case err != nil:
		return failOrWait(res, err)
	}
	res.steppedDown = primary
	return notYet(res, PhaseReconfiguring, "primary %s is on a member being removed: it stepped down, waiting for the next primary", primary)
}

// reconfigFailed sorts a refused replSetReconfig into what to wait for and what to report.
// NewReplicaSetConfigurationIncompatible (103) means both "your config is stale" (another
// reconfig, e.g. mongod's own removal of newlyAdded, bumped the version meanwhile) and
// "your config breaks a rule" (mongod wraps every validation failure in 103): the config is
// read again, and only when its version did not move is the refusal permanent.
func reconfigFailed(ctx context.Context, pc Client, res Result, sent Config, err error) (Result, error) {
	switch {
	case HasCode(err, CodeNodeNotElectable):
		return stepDown(ctx, pc, res, res.Status.Primary)
	case HasCode(err, CodeNewReplicaSetConfigurationIncompatible):
		now, rerr := pc.Config(ctx)
		if rerr != nil {
			return failOrWait(res, rerr)
		}
		if now.Version != sent.Version {
			res.ConfigVersion = now.Version
			return notYet(res, PhaseReconfiguring, "the config changed meanwhile (version %d, now %d); continuing from it", sent.Version, now.Version)
		}
		return fail(res, &RejectedError{Err: err})
	}
	return failOrWait(res, err)
}

// electable is mongod's notion: priority above 0 and not an arbiter.
func (m Member) electable() bool { return m.Priority > 0 && !m.ArbiterOnly }

// statusFromPeers asks members 1..desired.Members-1 for the set's status, for when member 0
// is not in its own config; the first one that reports a primary wins.
func statusFromPeers(ctx context.Context, dialer Dialer, target Target, desired Desired) (Status, error) {
	var last error
	for i := 1; i < desired.Members; i++ {
		mt := target
		mt.Host = desired.Host(i)
		c, err := dialer.Dial(ctx, mt)
		if err != nil {
			last = err
			continue
		}
		st, err := c.Status(ctx)
		_ = c.Close(context.WithoutCancel(ctx))
		if err == nil && !st.Removed && st.Primary != "" {
			// Seen from member i: no member in it is the node Ensure is connected to.
			for j := range st.Members {
				st.Members[j].Self = false
			}
			return st, nil
		}
		if err != nil {
			last = err
		}
	}
	if last != nil && permanent(last) {
		return Status{}, fmt.Errorf("no other member reports a primary: %w", last)
	}
	return Status{Initialized: true, Removed: true}, nil
}
