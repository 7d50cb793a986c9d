package mongorstest

import (
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// cmdErr is a command failure with MongoDB's code.
type cmdErr struct {
	code int32
	msg  string
}

var codeNames = map[int32]string{
	2: "BadValue", 11: "UserNotFound", 13: "Unauthorized", 18: "AuthenticationFailed", 31: "RoleNotFound",
	23: "AlreadyInitialized", 50: "MaxTimeMSExpired", 59: "CommandNotFound", 64: "WriteConcernFailed",
	74: "NodeNotFound", 76: "NoReplicationEnabled", 93: "InvalidReplicaSetConfig", 94: "NotYetInitialized",
	103: "NewReplicaSetConfigurationIncompatible", 104: "NodeNotElectable", 109: "ConfigurationInProgress",
	189: "PrimarySteppedDown", 262: "ExceededTimeLimit", 308: "CurrentConfigNotCommittedYet",
	334: "MechanismUnavailable", 10107: "NotWritablePrimary", 11602: "InterruptedDueToReplStateChange",
	51002: "RoleAlreadyExists", 51003: "UserAlreadyExists",
}

func fail(code int32, msg string) *cmdErr { return &cmdErr{code: code, msg: msg} }

// cmdIsMaster is the legacy hello command; old drivers send it, often over OP_QUERY.
const cmdIsMaster = "ismaster"

// noAuth lists the commands mongod with --auth answers before authentication.
var noAuth = []string{"hello", cmdIsMaster, "ping", "buildinfo", "saslstart", "saslcontinue", "endsessions"}

// dispatch records cmd, applies faults and runs it. A non-nil error closes the connection.
func (c *Cluster) dispatch(cn *conn, cmd bsoncore.Document, legacy bool) (bson.D, error) {
	elems, err := cmd.Elements()
	if err != nil || len(elems) == 0 {
		return errorDoc(2, "BadValue", "empty command"), nil
	}
	name := elems[0].Key()
	db, _ := cmd.Lookup("$db").StringValueOK()

	fault := c.record(cn, name, db, cmd)
	if fault != nil && !fault.DropAfterRun {
		return c.injectFailure(fault)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	c.tick()
	lname := strings.ToLower(name)
	if c.opts.Username != "" && cn.user == "" && !slices.Contains(noAuth, lname) {
		return errorDoc(13, "Unauthorized", "command "+name+" requires authentication"), nil
	}
	res, cerr := c.run(cn, bson.Raw(cmd), name, db, legacy)
	if fault != nil { // DropAfterRun
		return nil, errDrop
	}
	if cerr != nil {
		return errorDoc(cerr.code, codeNames[cerr.code], cerr.msg), nil
	}
	return append(res, bson.E{Key: "ok", Value: 1.0}), nil
}

// record appends the command to the log and takes the first fault armed for it, if any.
func (c *Cluster) record(cn *conn, name, db string, cmd bsoncore.Document) *Fault {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.commands = append(c.commands, Command{Host: cn.node.host, Name: name, DB: db, Doc: bson.Raw(slices.Clone(cmd))})
	for i, f := range c.faults {
		if strings.EqualFold(f.Command, name) && (f.Host == "" || f.Host == cn.node.host) {
			if f.Times--; f.Times <= 0 {
				c.faults = slices.Delete(c.faults, i, i+1)
			}
			return f
		}
	}
	return nil
}

// injectFailure answers a command whose fault fires instead of running it: it hangs until
// the cluster closes, drops the connection or answers the fault's error.
func (c *Cluster) injectFailure(f *Fault) (bson.D, error) {
	switch {
	case f.Hang:
		<-c.closed
		return nil, errDrop
	case f.Drop:
		return nil, errDrop
	}
	msg := f.Message
	if msg == "" {
		msg = "injected failure"
	}
	return errorDoc(f.Code, codeNames[f.Code], msg), nil
}

// run runs the command called name (any case) against the cluster. Callers hold mu.
func (c *Cluster) run(cn *conn, raw bson.Raw, name, db string, legacy bool) (bson.D, *cmdErr) {
	switch lname := strings.ToLower(name); lname {
	case "hello", cmdIsMaster:
		return c.hello(cn, raw, lname == cmdIsMaster || legacy), nil
	case "ping", "endsessions":
		return bson.D{}, nil
	case "buildinfo":
		return c.buildInfo(cn), nil
	case "saslstart":
		return c.saslStart(cn, raw, db)
	case "saslcontinue":
		return c.saslContinue(cn, raw)
	case "replsetgetstatus":
		return c.replSetGetStatus(cn)
	case "replsetgetconfig":
		return c.replSetGetConfig(cn)
	case "replsetinitiate":
		cfg, ok := raw.Lookup(name).DocumentOK()
		if !ok {
			return nil, fail(2, "replSetInitiate needs a config document")
		}
		return nil, c.initiate(cn.node.host, cfg)
	case "replsetreconfig":
		if cn.node.firstStart {
			return nil, errNoReplication
		}
		return nil, c.reconfig(cn.node.host, raw.Lookup(name), deadlineOf(raw))
	case "replsetstepdown":
		return nil, c.stepDown(cn.node.host, raw)
	case "createuser":
		return c.createUser(cn.node.host, db, raw)
	case "updateuser":
		return c.updateUser(cn.node.host, db, raw)
	case "createrole":
		return nil, c.createRole(cn.node.host, db, raw)
	case "updaterole":
		return nil, c.updateRole(cn.node.host, db, raw)
	default:
		if res, cerr, ok := c.runVersionCommand(cn, raw, name, lname); ok { // fcv.go
			return res, cerr
		}
		return nil, fail(59, "no such command: '"+name+"'")
	}
}

// hello answers the handshake and monitoring: a member without a config is a "ghost"
// (isreplicaset), a member of the set reports setName, hosts and the primary.
func (c *Cluster) hello(cn *conn, cmd bson.Raw, legacy bool) bson.D {
	primary := c.currentPrimary()
	member := c.cfg != nil && c.memberIndex(c.cfg, cn.node.host) >= 0
	writable := member && primary == cn.node.host
	res := bson.D{}
	if _, ok := cmd.Lookup("helloOk").BooleanOK(); ok {
		res = append(res, bson.E{Key: "helloOk", Value: true})
	}
	if legacy {
		res = append(res, bson.E{Key: "ismaster", Value: writable})
	} else {
		res = append(res, bson.E{Key: "isWritablePrimary", Value: writable})
	}
	if !member {
		res = append(res, bson.E{Key: "secondary", Value: false}, bson.E{Key: "isreplicaset", Value: true},
			bson.E{Key: "info", Value: "Does not have a valid replica set config"})
	} else {
		ms := c.members(c.cfg)
		hosts := make(bson.A, 0, len(ms))
		for _, m := range ms {
			hosts = append(hosts, m.host)
		}
		version, _ := c.cfg.Lookup("version").AsInt64OK()
		res = append(res,
			bson.E{Key: "hosts", Value: hosts},
			bson.E{Key: "setName", Value: c.opts.SetName},
			bson.E{Key: "setVersion", Value: int32(version)},
			bson.E{Key: "secondary", Value: !writable && c.stateOf(cn.node.host) == stateSecondary},
			bson.E{Key: "me", Value: cn.node.host},
		)
		if primary != "" {
			res = append(res, bson.E{Key: "primary", Value: primary})
		}
	}
	// Speculative authentication: the handshake carries the saslStart, and the reply its
	// answer, saving a round trip. A failed attempt is left out; the driver then falls back
	// to saslStart.
	if spec, ok := cmd.Lookup("speculativeAuthenticate").DocumentOK(); ok {
		if _, isSASL := spec.Lookup("saslStart").AsInt64OK(); isSASL {
			db, _ := spec.Lookup("db").StringValueOK()
			if out, cerr := c.saslStart(cn, spec, db); cerr == nil {
				res = append(res, bson.E{Key: "speculativeAuthenticate", Value: out})
			}
		}
	}
	if mechs, ok := cmd.Lookup("saslSupportedMechs").StringValueOK(); ok {
		if _, exists := c.users[mechs]; exists {
			res = append(res, bson.E{Key: "saslSupportedMechs", Value: bson.A{"SCRAM-SHA-1", "SCRAM-SHA-256"}})
		}
	}
	return append(res,
		bson.E{Key: "maxBsonObjectSize", Value: int32(16 * 1024 * 1024)},
		bson.E{Key: "maxMessageSizeBytes", Value: int32(maxMessageSize)},
		bson.E{Key: "maxWriteBatchSize", Value: int32(100000)},
		bson.E{Key: "localTime", Value: bson.NewDateTimeFromTime(time.Now())},
		bson.E{Key: "logicalSessionTimeoutMinutes", Value: int32(30)},
		bson.E{Key: "connectionId", Value: cn.id},
		bson.E{Key: "minWireVersion", Value: int32(0)},
		bson.E{Key: "maxWireVersion", Value: int32(21)},
		bson.E{Key: "readOnly", Value: false},
	)
}

var stateCodes = map[string]int32{
	"STARTUP": 0, statePrimary: 1, stateSecondary: 2, stateRecovering: 3, stateStartup2: 5,
	stateUnknown: 6, "ARBITER": 7, stateDown: 8, "ROLLBACK": 9, "REMOVED": 10,
}

// errNoReplication is what a mongod started without --replSet answers to replica-set
// commands: the official image's entrypoint runs such a mongod, on 127.0.0.1, at first start.
var errNoReplication = fail(76, "not running with --replSet")

// configErr is why a node cannot answer replSetGetStatus or replSetGetConfig, or nil: 76
// without --replSet, 94 before it has a config (or while it loads the one it stored), 93
// when its config does not contain it (removed from the set, or it cannot find itself).
func (c *Cluster) configErr(n *node) *cmdErr {
	switch {
	case n.firstStart:
		return errNoReplication
	case c.loading(n):
		return fail(94, "no replset config has been received")
	case c.cfg == nil || c.memberIndex(c.cfg, n.host) < 0 && !c.everMember[n.host]:
		return fail(94, "no replset config has been received")
	case c.memberIndex(c.cfg, n.host) < 0:
		return fail(93, "Our replica set config is invalid or we are not a member of it")
	}
	return nil
}

func (c *Cluster) replSetGetStatus(cn *conn) (bson.D, *cmdErr) {
	if e := c.configErr(cn.node); e != nil {
		return nil, e
	}
	var members bson.A
	for _, m := range c.members(c.cfg) {
		state := c.stateOf(m.host)
		health, stateStr := 1.0, state
		switch state {
		case stateDown:
			health, stateStr = 0.0, "(not reachable/healthy)"
		case stateUnknown:
			health = -1.0 // no heartbeat answer yet
		}
		members = append(members, bson.D{
			{Key: keyID, Value: int32(m.id)},
			{Key: "name", Value: m.host},
			{Key: "health", Value: health},
			{Key: "state", Value: stateCodes[state]},
			{Key: "stateStr", Value: stateStr},
			{Key: "self", Value: m.host == cn.node.host},
		})
	}
	return bson.D{
		{Key: "set", Value: c.opts.SetName},
		{Key: "date", Value: bson.NewDateTimeFromTime(time.Now())},
		{Key: "myState", Value: stateCodes[c.stateOf(cn.node.host)]},
		{Key: "term", Value: c.term},
		{Key: "members", Value: members},
	}, nil
}

func (c *Cluster) replSetGetConfig(cn *conn) (bson.D, *cmdErr) {
	if cn.node.firstStart {
		return nil, errNoReplication
	}
	if c.cfg == nil || c.loading(cn.node) {
		return nil, fail(94, "no replset config has been received")
	}
	return bson.D{{Key: "config", Value: c.clientConfig()}}, nil
}

// stepDown is replSetStepDown: the primary waits up to secondaryCatchUpPeriodSecs (default
// 10) for an electable secondary that caught up, then steps down and is not electable for
// the command's seconds; the secondary wins the election after Timings.Handover. With none
// in time it answers ExceededTimeLimit (262), or MaxTimeMSExpired (50) when maxTimeMS ran
// out first. Callers hold mu; it is released while waiting.
func (c *Cluster) stepDown(host string, cmd bson.Raw) *cmdErr {
	if host != c.currentPrimary() {
		return fail(10107, "not primary so can't step down")
	}
	secs, ok := cmd.Lookup("replSetStepDown").AsInt64OK()
	if !ok || secs <= 0 {
		secs = 60
	}
	catchUp := int64(10)
	if v, ok := cmd.Lookup("secondaryCatchUpPeriodSecs").AsInt64OK(); ok {
		catchUp = v
	}
	if catchUp >= secs {
		return fail(2, "stepdown period must be longer than secondaryCatchUpPeriodSecs")
	}
	deadline := deadlineOf(cmd)
	catchUpEnd := time.Now().Add(time.Duration(catchUp) * time.Second)
	var next string
	found := c.waitFor(earliest(deadline, catchUpEnd), func() bool {
		next = c.electableSecondary(host)
		return next != "" && c.currentPrimary() == host
	})
	switch {
	case c.currentPrimary() != host:
		return fail(10107, "not primary so can't step down")
	case !found && deadline.Before(catchUpEnd):
		return fail(50, "operation exceeded time limit")
	case !found:
		return fail(262, "No electable secondaries caught up as of "+time.Now().UTC().Format(time.RFC3339)+
			". Please use the replSetStepDown command with the argument {force: true} to force node to step down.")
	}
	c.frozen[host] = time.Now().Add(time.Duration(secs) * time.Second)
	c.handOver(next, c.timings.Handover)
	return nil
}

// electableSecondary is the lowest caught-up member, other than except, that could win an
// election now. Callers hold mu.
func (c *Cluster) electableSecondary(except string) string {
	for _, m := range c.members(c.cfg) {
		if m.host != except && m.electable() && m.voter() && c.stateOf(m.host) == stateSecondary &&
			!time.Now().Before(c.frozen[m.host]) {
			return m.host
		}
	}
	return ""
}

// handOver leaves the set without a primary until next wins, after. Callers hold mu.
func (c *Cluster) handOver(next string, after time.Duration) {
	c.primary, c.candidate, c.electAt = "", next, time.Now().Add(after)
	c.term++
}
