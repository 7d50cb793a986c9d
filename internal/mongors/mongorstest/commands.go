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
	23: "AlreadyInitialized", 50: "ExceededTimeLimit", 59: "CommandNotFound", 74: "NodeNotFound",
	93: "InvalidReplicaSetConfig", 94: "NotYetInitialized", 103: "NewReplicaSetConfigurationIncompatible",
	109: "ConfigurationInProgress", 189: "PrimarySteppedDown", 308: "CurrentConfigNotCommittedYet",
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
		return bson.D{{Key: "version", Value: "7.0.0"}, {Key: "versionArray", Value: bson.A{int32(7), int32(0), int32(0), int32(0)}}}, nil
	case "saslstart":
		return c.saslStart(cn, raw, db)
	case "saslcontinue":
		return c.saslContinue(cn, raw)
	case "replsetgetstatus":
		return c.replSetGetStatus(cn)
	case "replsetgetconfig":
		return c.replSetGetConfig()
	case "replsetinitiate":
		cfg, ok := raw.Lookup(name).DocumentOK()
		if !ok {
			return nil, fail(2, "replSetInitiate needs a config document")
		}
		return nil, c.initiate(cn.node.host, cfg)
	case "replsetreconfig":
		return nil, c.reconfig(cn.node.host, raw.Lookup(name))
	case "replsetstepdown":
		return nil, c.stepDown(cn.node.host)
	case "createuser":
		return nil, c.createUser(cn.node.host, db, raw)
	case "updateuser":
		return nil, c.updateUser(cn.node.host, db, raw)
	case "createrole":
		return nil, c.createRole(cn.node.host, db, raw)
	case "updaterole":
		return nil, c.updateRole(cn.node.host, db, raw)
	default:
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
	return stateSecondary
}

// Member states the double decides on itself, named as replSetGetStatus's stateStr names
// them, except stateDown: mongod reports an unreachable member as "(not reachable/healthy)".
// They are the double's own, not package mongors's, so that a wrong name there is caught.
const (
	statePrimary   = "PRIMARY"
	stateSecondary = "SECONDARY"
	stateDown      = "DOWN"
)

var stateCodes = map[string]int32{
	"STARTUP": 0, statePrimary: 1, stateSecondary: 2, "RECOVERING": 3, "STARTUP2": 5,
	"UNKNOWN": 6, "ARBITER": 7, stateDown: 8, "ROLLBACK": 9, "REMOVED": 10,
}

func (c *Cluster) replSetGetStatus(cn *conn) (bson.D, *cmdErr) {
	if c.cfg == nil || c.memberIndex(c.cfg, cn.node.host) < 0 {
		return nil, fail(94, "no replset config has been received")
	}
	var members bson.A
	for _, m := range c.members(c.cfg) {
		state := c.stateOf(m.host)
		health, stateStr := 1.0, state
		if state == stateDown {
			health, stateStr = 0.0, "(not reachable/healthy)"
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

func (c *Cluster) replSetGetConfig() (bson.D, *cmdErr) {
	if c.cfg == nil {
		return nil, fail(94, "no replset config has been received")
	}
	return bson.D{{Key: "config", Value: c.cfg}}, nil
}

func (c *Cluster) stepDown(host string) *cmdErr {
	if host != c.currentPrimary() {
		return fail(10107, "not primary so can't step down")
	}
	for _, m := range c.members(c.cfg) {
		if m.host != host && m.priority > 0 && !m.newlyAdded && c.stateOf(m.host) == stateSecondary {
			c.primary = m.host
			c.term++
			return nil
		}
	}
	return fail(50, "No electable secondaries caught up")
}
