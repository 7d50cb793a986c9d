// Package mongorstest is a wire-protocol test double of a MongoDB replica set: one TCP
// listener on 127.0.0.1 per member, speaking OP_MSG (and OP_QUERY/OP_REPLY for the driver's
// legacy isMaster handshake), SCRAM-SHA-256 authentication, and the replica-set and user
// commands package mongors runs, with MongoDB's error codes. It records every command it
// receives so tests can assert the exact documents the driver sent, and it can fail, drop or
// hang chosen commands.
//
// Start it from any package's tests and point mongors.DriverDialer at it:
//
//	rs := mongorstest.Start(t, mongorstest.Options{Hosts: hosts, Username: "root", Password: pw})
//	dialer := mongors.DriverDialer{NetDialer: rs} // maps each member's DNS name to its listener
//
// What it imitates of mongod 7.0, each pinned by a test in mongod_test.go that names the
// server behaviour: elections after Timings.Election (10-12 s by default, as
// electionTimeoutMillis makes them); new members UNKNOWN (health -1), then STARTUP2, then
// SECONDARY; "newlyAdded" on new voting members by _id, hidden from replSetGetConfig and
// removed by a reconfig of the double's own (a version bump that collides with a user's
// reconfig as 109 or 103); replSetReconfig's order (109 while another runs, 308 when the
// current config is not committed, the quorum check waiting Timings.QuorumCheck then 74,
// 50 when the new config does not reach a majority in maxTimeMS but is installed);
// NodeNotElectable (104) for a reconfig that leaves the primary unelectable; validation
// failures as 103 and a foreign set name as 93; a removed member answering 93, a restarted
// one 94 while it loads its config (and 23 to replSetInitiate), the image's first-start
// mongod 76; replSetStepDown waiting secondaryCatchUpPeriodSecs, then 262 (50 for
// maxTimeMS); createUser/updateUser with {w: "majority"} answering ok plus a
// writeConcernError while the members sync; 51003 for an existing user, 10107 off the
// primary.
//
// What the double cannot prove — it is not mongod:
//   - no replication, oplog, data or rollback: "caught up" is the member's state, which
//     follows Timings or what the test sets (SetState); a member that returns with old data
//     is imitated by its config only (it answers 93 until it is added again);
//   - elections are decided, not run: the initiating member wins after Timings.Election,
//     the lowest electable caught-up secondary after a step-down or after the primary
//     stops, or whoever SetPrimary names; no terms in votes, no priority takeover, no
//     catch-up of a new primary;
//   - replSetReconfig validation covers the rules mongors relies on (set name,
//     replicaSetId, unique _ids and hosts, this node in the config and electable, 1..7
//     voters, non-voters with priority 0, a greater version, one voter added or removed by
//     _id, no user-set newlyAdded) and not the rest of ReplSetConfig::validate (tags,
//     arbiters' priorities, getLastErrorDefaults, horizons). Its single-node-change rule
//     counts the votes field and ignores newlyAdded, which may be stricter than mongod;
//   - config commitment is Timings.ConfigCommit plus a reachable majority, not heartbeats
//     carrying config versions and terms; the quorum check asks whether members answer,
//     not whether they accept the config; the exact code for a user-set newlyAdded (93
//     here) and for an unelectable initiating node (93) may differ;
//   - the write-concern error's code is 64 at wtimeout and 50 at maxTimeMS; which of the
//     two mongod reports when both are set is not checked;
//   - only SCRAM-SHA-256 (speculative in the handshake or by saslStart; SCRAM-SHA-1 is
//     advertised but refused), no TLS, no compression, no localhost exception, no role
//     checks beyond "authenticated"; the first-start instance is reachable here, while in a
//     pod it listens on 127.0.0.1 only; error messages are shortened.
//
// Elections, catch-up, keyfile authentication between members, DNS inside a cluster and
// the validation rules above still need a real replica set to confirm.
package mongorstest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Options configure a Cluster.
type Options struct {
	// SetName is the replica-set name mongod was started with (--replSet); default "rs0".
	SetName string
	// Hosts are the members' host:port names as the driver will dial them (pod DNS names).
	// Each gets its own listener; a host not listed does not resolve.
	Hosts []string
	// Username and Password, when set, create the root user in "admin" and make every
	// command other than the handshake, ping and buildInfo require authentication.
	Username string
	Password string
	// Timings are the double's pace; nil means RealisticTimings. Tests that need speed set
	// them explicitly (InstantTimings).
	Timings *Timings
	// NoElection leaves the set without a primary until the test calls SetPrimary.
	NoElection bool
	// NewMemberState, when set, is the state members added by replSetReconfig stay in
	// (until SetState), instead of going UNKNOWN -> STARTUP2 -> SECONDARY by Timings.
	NewMemberState string
}

// Command is one command document a member received.
type Command struct {
	Host string
	Name string
	DB   string
	Doc  bson.Raw
}

// Fault makes the next Times commands named Command (on Host, or any host when empty)
// fail with Code and Message, drop the connection before running the command (Drop) or
// after running it without answering (DropAfterRun: the reply is lost, the change is
// made), or hang until the cluster stops.
type Fault struct {
	Command      string
	Host         string
	Times        int
	Code         int32
	Message      string
	Drop         bool
	DropAfterRun bool
	Hang         bool
}

// Cluster is the test double: a replica set of Options.Hosts members.
type Cluster struct {
	opts   Options
	closed chan struct{}
	wg     sync.WaitGroup

	timings Timings

	mu                sync.Mutex
	nodes             map[string]*node
	cfg               bson.Raw // nil until replSetInitiate; with newlyAdded, as mongod stores it
	cfgInstalledAt    time.Time
	cfgCommitted      bool      // the current config reached a majority
	reconfiguring     bool      // a replSetReconfig is running
	autoReconfigUntil time.Time // mongod's own newlyAdded-removal reconfig is running
	term              int64
	primary           string
	candidate         string               // wins the pending election at electAt
	electAt           time.Time            // when candidate becomes primary
	frozen            map[string]time.Time // stepped-down members, not electable until then
	states            map[string]string    // states the test set
	joined            map[string]time.Time // when a member joined the config, for its progress
	secondarySince    map[string]time.Time // when a newlyAdded member was first seen SECONDARY
	everMember        map[string]bool      // hosts that had a config: removed ones answer 93
	users             map[string]*user
	roles             map[string]*role // custom roles by db.name
	version           versionState     // members' releases and the FCV (fcv.go)
	commands          []Command
	faults            []*Fault
	nextConnID        int32
}

type node struct {
	host         string
	ln           net.Listener
	stopped      bool
	firstStart   bool      // the entrypoint's first-start mongod: no --replSet
	loadingUntil time.Time // restarted: loading its stored config until then
	conns        map[net.Conn]struct{}
}

// loading reports a restarted member still loading its stored config. Callers hold mu.
func (c *Cluster) loading(n *node) bool { return time.Now().Before(n.loadingUntil) }

// Start starts the double for a test and stops it when the test ends.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	c, err := New(opts)
	if err != nil {
		t.Fatalf("mongorstest: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// New starts the double; Close stops it.
func New(opts Options) (*Cluster, error) {
	if len(opts.Hosts) == 0 {
		return nil, errors.New("no hosts")
	}
	if opts.SetName == "" {
		opts.SetName = "rs0"
	}
	c := &Cluster{
		opts:           opts,
		timings:        RealisticTimings(),
		closed:         make(chan struct{}),
		nodes:          map[string]*node{},
		frozen:         map[string]time.Time{},
		states:         map[string]string{},
		joined:         map[string]time.Time{},
		secondarySince: map[string]time.Time{},
		everMember:     map[string]bool{},
		users:          map[string]*user{},
		roles:          map[string]*role{},
	}
	if opts.Timings != nil {
		c.timings = *opts.Timings
	}
	if opts.Username != "" {
		roles := mustMarshal(bson.D{{Key: "roles", Value: bson.A{bson.D{{Key: "role", Value: "root"}, {Key: "db", Value: adminDB}}}}})
		if err := c.addUser(adminDB, opts.Username, opts.Password, roles.Lookup("roles").Array()); err != nil {
			return nil, err
		}
	}
	for _, h := range opts.Hosts {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			c.Close()
			return nil, err
		}
		n := &node{host: h, ln: ln, conns: map[net.Conn]struct{}{}}
		c.nodes[h] = n
		c.wg.Add(1)
		go c.accept(n)
	}
	return c, nil
}

// Close stops every listener and connection and waits for them.
func (c *Cluster) Close() {
	c.mu.Lock()
	select {
	case <-c.closed:
		c.mu.Unlock()
		return
	default:
	}
	close(c.closed)
	for _, n := range c.nodes {
		_ = n.ln.Close()
		for conn := range n.conns {
			_ = conn.Close()
		}
	}
	c.mu.Unlock()
	c.wg.Wait()
}

// DialContext implements the driver's ContextDialer: it connects a member's host:port name
// to that member's listener, and fails like DNS for names the cluster does not have.
func (c *Cluster) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	c.mu.Lock()
	n, ok := c.nodes[address]
	stopped := ok && n.stopped
	c.mu.Unlock()
	if !ok {
		host, _, _ := net.SplitHostPort(address)
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}}
	}
	if stopped {
		return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("connection refused")}
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", n.ln.Addr().String())
}

// Addr returns the 127.0.0.1 address of a member's listener.
func (c *Cluster) Addr(host string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n, ok := c.nodes[host]; ok {
		return n.ln.Addr().String()
	}
	return ""
}

// Stop makes a member unreachable (its pod is gone): open connections close, dials fail,
// and the other members report it DOWN. A stopped primary is replaced by the lowest
// electable secondary after Timings.Election (the others' election timeout). Restart
// brings it back.
func (c *Cluster) Stop(host string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tick()
	if n, ok := c.nodes[host]; ok {
		n.stopped = true
		for conn := range n.conns {
			_ = conn.Close()
		}
	}
	if c.currentPrimary() == host {
		c.handOver(c.electableSecondary(host), c.timings.Election)
	}
}

// Restart undoes Stop: the member comes back with the data and config it had (a pod
// rescheduled onto its volume). For Timings.ConfigLoad it answers NotYetInitialized (94)
// while it loads its stored config, and refuses replSetInitiate with AlreadyInitialized.
func (c *Cluster) Restart(host string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n, ok := c.nodes[host]; ok {
		n.stopped = false
		if c.everMember[host] {
			n.loadingUntil = time.Now().Add(c.timings.ConfigLoad)
		}
	}
}

// FirstStart puts a member in the official image's first start: its entrypoint runs mongod
// without --replSet (on 127.0.0.1 only, so in a pod only local probes reach it) to create
// the root user, and replica-set commands answer NoReplicationEnabled (76). Pass false when
// the entrypoint restarts it with --replSet.
func (c *Cluster) FirstStart(host string, on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n, ok := c.nodes[host]; ok {
		n.firstStart = on
	}
}

// Inject adds a fault.
func (c *Cluster) Inject(f Fault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f.Times == 0 {
		f.Times = 1
	}
	c.faults = append(c.faults, &f)
}

// FailNext makes the next n commands called name fail with code.
func (c *Cluster) FailNext(name string, n int, code int32) {
	c.Inject(Fault{Command: name, Times: n, Code: code})
}

// DropNext makes the server close the connection on the next n commands called name.
func (c *Cluster) DropNext(name string, n int) { c.Inject(Fault{Command: name, Times: n, Drop: true}) }

// HangNext makes the server never answer the next n commands called name.
func (c *Cluster) HangNext(name string, n int) { c.Inject(Fault{Command: name, Times: n, Hang: true}) }

// Commands returns the commands received, in order, only those named when names are given.
func (c *Cluster) Commands(names ...string) []Command {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Command
	for _, cmd := range c.commands {
		if len(names) == 0 || slices.Contains(names, cmd.Name) {
			out = append(out, cmd)
		}
	}
	return out
}

// ResetCommands forgets the commands received so far.
func (c *Cluster) ResetCommands() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.commands = nil
}

// Initialized reports whether replSetInitiate succeeded.
func (c *Cluster) Initialized() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cfg != nil
}

// Config returns the current replica-set config as mongod stores it (with the newlyAdded
// fields replSetGetConfig hides), nil before initiation.
func (c *Cluster) Config() bson.Raw {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.cfg)
}

// Primary returns the primary's host, empty when there is none.
func (c *Cluster) Primary() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tick()
	return c.currentPrimary()
}

// SetPrimary makes host the primary at once (an election the test decides), bumping the term.
func (c *Cluster) SetPrimary(host string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.primary, c.candidate = host, ""
	c.term++
}

// SetState sets a member's state as replSetGetStatus reports it (STARTUP2, RECOVERING,
// SECONDARY, ...), overriding its progress by Timings. Setting SECONDARY on a newly added
// member ends its "newlyAdded" phase the way mongod does: with an automatic reconfig that
// bumps the config version.
func (c *Cluster) SetState(host, state string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.states[host] = state
	c.tick()
}

// InitiateOutOfBand initiates the set as if someone had run rs.initiate() by hand, or as if
// the operator crashed after its replSetInitiate succeeded. cfg is a replSetInitiate config.
func (c *Cluster) InitiateOutOfBand(host string, cfg bson.D) error {
	raw, err := bson.Marshal(cfg)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.initiate(host, raw); e != nil {
		return fmt.Errorf("%s (%d)", e.msg, e.code)
	}
	return nil
}

// User reports whether db.name exists and its roles.
func (c *Cluster) User(db, name string) (roles bson.RawArray, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u, ok := c.users[db+"."+name]
	if !ok {
		return nil, false
	}
	return u.roles, true
}

// UserPassword reports whether password logs db.name in.
func (c *Cluster) UserPassword(db, name, password string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	u, ok := c.users[db+"."+name]
	return ok && u.password == password
}
