package mongorstest

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Timings are how long the double takes for what mongod does over time. Options.Timings nil
// means RealisticTimings; a test that needs speed passes InstantTimings (or its own values)
// explicitly, so that nobody mistakes the fast double for mongod's pace.
type Timings struct {
	// Election is how long after replSetInitiate the initiating member becomes primary.
	// mongod's first election waits for electionTimeoutMillis (10 s) plus a random offset of
	// up to 15 %: about 10-12 s for a multi-member set.
	Election time.Duration
	// Handover is how long a set is without a primary after a step-down, until the chosen
	// caught-up secondary has won its election (mongod asks it to step up at once: ~1 s).
	Handover time.Duration
	// Heartbeat is how long a member that just joined the config is UNKNOWN (health -1) to
	// the others, until its first heartbeat answer (heartbeatIntervalMillis, 2 s).
	Heartbeat time.Duration
	// InitialSync is how long a new member stays STARTUP2 (initial sync) before it is a
	// SECONDARY. Seconds for an empty set, hours for a large one.
	InitialSync time.Duration
	// ConfigCommit is how long a newly installed config takes to reach a majority through
	// heartbeats; until then it is not committed (replSetReconfig waits for it).
	ConfigCommit time.Duration
	// QuorumCheck is how long replSetReconfig's quorum check waits for members that do not
	// answer before it gives up (heartbeatTimeoutSecs, 10 s).
	QuorumCheck time.Duration
	// ConfigLoad is how long a restarted member answers NotYetInitialized (94) while it
	// loads its stored config.
	ConfigLoad time.Duration
	// NewlyAddedRemoval is how long after a newlyAdded member is first seen SECONDARY
	// mongod's own reconfig drops the flag (it notices through heartbeats).
	NewlyAddedRemoval time.Duration
}

// RealisticTimings are mongod's pace on a small, empty replica set.
func RealisticTimings() Timings {
	return Timings{
		Election:     11 * time.Second,
		Handover:     time.Second,
		Heartbeat:    2 * time.Second,
		InitialSync:  3 * time.Second,
		ConfigCommit: 500 * time.Millisecond,
		QuorumCheck:  10 * time.Second,
		ConfigLoad:   time.Second,

		NewlyAddedRemoval: 2 * time.Second,
	}
}

// InstantTimings make everything happen at once, for tests about order, not pace.
func InstantTimings() Timings { return Timings{} }

// Member states the double decides on itself, named as replSetGetStatus's stateStr names
// them, except stateDown: mongod reports an unreachable member as "(not reachable/healthy)".
// They are the double's own, not package mongors's, so that a wrong name there is caught.
const (
	statePrimary    = "PRIMARY"
	stateSecondary  = "SECONDARY"
	stateStartup2   = "STARTUP2"
	stateRecovering = "RECOVERING"
	stateUnknown    = "UNKNOWN"
	stateDown       = "DOWN"
)

// tick moves the clock-driven parts of the double forward: a pending election, and the
// automatic reconfig that drops "newlyAdded" from members that caught up. Callers hold mu.
func (c *Cluster) tick() {
	if c.cfg != nil && c.primary == "" && c.candidate == "" && !c.opts.NoElection {
		// No primary and none coming (it was stopped with no one to take over, or every
		// member restarted): the others call an election when their timeout runs out.
		if next := c.electableSecondary(""); next != "" {
			c.candidate, c.electAt = next, time.Now().Add(c.timings.Election)
		}
	}
	c.currentPrimary()
	if c.cfg != nil {
		c.committed() // heartbeats carry the config to the members while they answer
	}
	c.removeNewlyAdded()
}

// currentPrimary elects the pending candidate once its time has come. Callers hold mu.
func (c *Cluster) currentPrimary() string {
	if c.cfg == nil {
		return ""
	}
	if c.primary == "" && c.candidate != "" && !time.Now().Before(c.electAt) {
		c.primary, c.candidate = c.candidate, ""
		c.term++
	}
	return c.primary
}

// stateOf returns a config member's state. Callers hold mu.
func (c *Cluster) stateOf(host string) string {
	if n, ok := c.nodes[host]; !ok || n.stopped {
		return stateDown
	}
	if host == c.currentPrimary() {
		return statePrimary
	}
	if s, ok := c.states[host]; ok && s != statePrimary {
		return s
	}
	if joined, ok := c.joined[host]; ok {
		since := time.Since(joined)
		switch {
		case since < c.timings.Heartbeat:
			return stateUnknown
		case since < c.timings.Heartbeat+c.timings.InitialSync:
			return stateStartup2
		}
	}
	return stateSecondary
}

// caughtUp reports a member that holds the data and follows the primary.
func (c *Cluster) caughtUp(host string) bool {
	s := c.stateOf(host)
	return s == statePrimary || s == stateSecondary
}

// committed reports whether the current config has reached a majority of its voters:
// ConfigCommit has passed since it was installed and a majority of them answer.
// Once committed, a config stays committed (members that fail later do not undo it).
func (c *Cluster) committed() bool {
	if c.cfgCommitted {
		return true
	}
	if time.Since(c.cfgInstalledAt) < c.timings.ConfigCommit {
		return false
	}
	c.cfgCommitted = c.reachableVoters(c.members(c.cfg)) >= majority(voterCount(c.members(c.cfg)))
	return c.cfgCommitted
}

// reachableVoters counts the voting members (newlyAdded ones do not vote) that answer.
func (c *Cluster) reachableVoters(ms []memberInfo) int {
	n := 0
	for _, m := range ms {
		if m.voter() {
			if s := c.stateOf(m.host); s != stateDown && s != stateUnknown {
				n++
			}
		}
	}
	return n
}

func voterCount(ms []memberInfo) int {
	n := 0
	for _, m := range ms {
		if m.voter() {
			n++
		}
	}
	return n
}

func majority(n int) int { return n/2 + 1 }

// waitFor releases mu and polls cond until it holds, the deadline passes or the cluster
// closes; it returns cond's last answer. Callers hold mu, and hold it again on return:
// anything read before the wait may have changed.
func (c *Cluster) waitFor(deadline time.Time, cond func() bool) bool {
	for {
		c.tick()
		if cond() {
			return true
		}
		if !time.Now().Before(deadline) {
			return false
		}
		c.mu.Unlock()
		select {
		case <-c.closed:
			c.mu.Lock()
			return false
		case <-time.After(min(5*time.Millisecond, time.Until(deadline)+time.Millisecond)):
		}
		c.mu.Lock()
	}
}

// deadlineOf is when a command's maxTimeMS runs out; without one, mongod waits without
// limit, which the double caps at an hour.
func deadlineOf(cmd bson.Raw) time.Time {
	if ms, ok := cmd.Lookup("maxTimeMS").AsInt64OK(); ok && ms > 0 {
		return time.Now().Add(time.Duration(ms) * time.Millisecond)
	}
	return time.Now().Add(time.Hour)
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// awaitMajority is the write concern of the user-management commands ({w: "majority"}):
// the write is done, then the primary waits for a majority of the voters to hold it. A
// member still in initial sync (right after replSetInitiate or a scale-up) does not count.
// When the wait ends first (wtimeout, or maxTimeMS), the command still answers ok: 1 with
// a writeConcernError: WriteConcernFailed (64) for wtimeout, MaxTimeMSExpired (50) for
// maxTimeMS. Callers hold mu; it is released while waiting.
func (c *Cluster) awaitMajority(cmd bson.Raw) bson.D {
	deadline := deadlineOf(cmd)
	code, name, msg := int32(50), "MaxTimeMSExpired", "operation exceeded time limit"
	if ms, ok := cmd.Lookup("writeConcern", "wtimeout").AsInt64OK(); ok && ms > 0 {
		if w := time.Now().Add(time.Duration(ms) * time.Millisecond); w.Before(deadline) {
			deadline, code, name, msg = w, 64, "WriteConcernFailed", "waiting for replication timed out"
		}
	}
	caughtUp := func() bool {
		ms := c.members(c.cfg)
		n := 0
		for _, m := range ms {
			if m.voter() && c.caughtUp(m.host) {
				n++
			}
		}
		return n >= majority(voterCount(ms))
	}
	if c.waitFor(deadline, caughtUp) {
		return bson.D{}
	}
	wce := bson.D{{Key: "code", Value: code}, {Key: "codeName", Value: name}, {Key: "errmsg", Value: msg}}
	if code == 64 {
		wce = append(wce, bson.E{Key: "errInfo", Value: bson.D{{Key: "wtimeout", Value: true}}})
	}
	return bson.D{{Key: "writeConcernError", Value: wce}}
}
