package mongorstest

import (
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

const maxVoters = 7

// keyID is the _id field of a config document (the set name) and of a member document.
const keyID = "_id"

// memberInfo is what the double reads from a config's member document.
type memberInfo struct {
	id          int
	host        string
	votes       int
	priority    float64
	arbiterOnly bool
	newlyAdded  bool
	doc         bson.Raw
}

// voter reports whether the member counts as a voter: mongod treats a newlyAdded member as
// non-voting whatever its votes field says (MemberConfig's vote count).
func (m memberInfo) voter() bool { return m.votes > 0 && !m.newlyAdded }

// electable is mongod's "electable": priority above 0 and not an arbiter.
func (m memberInfo) electable() bool { return m.priority > 0 && !m.arbiterOnly }

// members parses cfg's members. Callers pass configs the double stored or validated.
func (c *Cluster) members(cfg bson.Raw) []memberInfo {
	ms, _ := parseMembers(cfg)
	return ms
}

func (c *Cluster) memberIndex(cfg bson.Raw, host string) int {
	for i, m := range c.members(cfg) {
		if m.host == host {
			return i
		}
	}
	return -1
}

// parseMembers reads the members array. Shape errors are what mongod's config parser
// refuses: InvalidReplicaSetConfig (93) for replSetInitiate and replSetReconfig alike.
func parseMembers(cfg bson.Raw) ([]memberInfo, *cmdErr) {
	arr, ok := cfg.Lookup("members").ArrayOK()
	if !ok {
		return nil, fail(93, "replica set configuration must have a members array")
	}
	vals, _ := arr.Values()
	out := make([]memberInfo, 0, len(vals))
	for _, v := range vals {
		doc, ok := v.DocumentOK()
		if !ok {
			return nil, fail(93, "members must be documents")
		}
		id, ok := doc.Lookup(keyID).AsInt64OK()
		if !ok {
			return nil, fail(93, "member without a numeric _id")
		}
		host, ok := doc.Lookup("host").StringValueOK()
		if !ok || host == "" {
			return nil, fail(93, fmt.Sprintf("member %d has no host", id))
		}
		m := memberInfo{id: int(id), host: host, votes: 1, priority: 1, doc: doc}
		if v, err := doc.LookupErr("votes"); err == nil {
			n, _ := v.AsInt64OK()
			m.votes = int(n)
		}
		if v, err := doc.LookupErr("priority"); err == nil {
			switch v.Type {
			case bson.TypeDouble:
				m.priority = v.Double()
			default:
				n, _ := v.AsInt64OK()
				m.priority = float64(n)
			}
		}
		m.arbiterOnly, _ = doc.Lookup("arbiterOnly").BooleanOK()
		m.newlyAdded, _ = doc.Lookup("newlyAdded").BooleanOK()
		out = append(out, m)
	}
	return out, nil
}

// validateMembers checks the rules of mongod's ReplSetConfig::validate the double models
// and returns why the config is invalid, or "". replSetInitiate reports it as
// InvalidReplicaSetConfig (93), replSetReconfig as NewReplicaSetConfigurationIncompatible
// (103): mongod wraps every validation failure of a reconfig in 103.
func validateMembers(ms []memberInfo) string {
	if len(ms) == 0 {
		return "replica set configuration must have at least one member"
	}
	ids, hosts := map[int]bool{}, map[string]bool{}
	voters := 0
	for _, m := range ms {
		switch {
		case m.votes != 0 && m.votes != 1:
			return fmt.Sprintf("member %d: votes must be 0 or 1", m.id)
		case m.votes == 0 && m.priority != 0:
			return fmt.Sprintf("member %d: priority must be 0 when non-voting (votes:0)", m.id)
		case ids[m.id]:
			return fmt.Sprintf("Found two member configurations with same _id field, members.%d._id", m.id)
		case hosts[m.host]:
			return "Found two member configurations with same host field " + m.host
		}
		ids[m.id], hosts[m.host] = true, true
		if m.votes > 0 {
			voters++
		}
	}
	if voters == 0 || voters > maxVoters {
		return fmt.Sprintf("Replica set configuration contains %d voting members, but must be at least 1 and no more than %d", voters, maxVoters)
	}
	return ""
}

// initiate is replSetInitiate received by host. Callers hold mu.
func (c *Cluster) initiate(host string, cfg bson.Raw) *cmdErr {
	n := c.nodes[host]
	if c.cfg != nil || (n != nil && c.loading(n)) {
		// A node still loading its stored config answers status with 94, yet refuses to
		// be initiated again.
		return fail(23, "already initialized")
	}
	if n != nil && n.firstStart {
		return fail(76, "This node was not started with replication enabled.")
	}
	if name, _ := cfg.Lookup(keyID).StringValueOK(); name != c.opts.SetName {
		return fail(93, fmt.Sprintf("Attempting to initiate a replica set with name %s, but command line reports %s; rejecting", name, c.opts.SetName))
	}
	ms, cerr := parseMembers(cfg)
	if cerr != nil {
		return cerr
	}
	if msg := validateMembers(ms); msg != "" {
		return fail(93, msg)
	}
	version := int64(1)
	if v, err := cfg.LookupErr("version"); err == nil {
		version, _ = v.AsInt64OK()
	}
	if version != 1 {
		return fail(93, fmt.Sprintf("Configuration used to initiate a replica set must have version 1, but found %d", version))
	}
	var self *memberInfo
	for i, m := range ms {
		if m.host == host {
			self = &ms[i]
		}
		if m.newlyAdded {
			return fail(93, "newlyAdded field cannot be set by the user")
		}
		if n, ok := c.nodes[m.host]; !ok || n.stopped {
			return fail(74, "replSetInitiate quorum check failed because not all proposed set members responded affirmatively: "+m.host+" failed with Connection refused")
		}
	}
	if self == nil {
		return fail(93, fmt.Sprintf("No host described in new configuration with {version: %d, term: 0} for replica set %s maps to this node", version, c.opts.SetName))
	}
	if !self.electable() {
		return fail(93, fmt.Sprintf("This node, %s, with _id MemberId(%d) is not electable under the new configuration with {version: 1, term: 0} for replica set %s", host, self.id, c.opts.SetName))
	}
	settings, hasSettings := cfg.Lookup("settings").DocumentOK()
	if !hasSettings {
		settings = mustMarshal(bson.D{
			{Key: "chainingAllowed", Value: true},
			{Key: "heartbeatIntervalMillis", Value: int32(2000)},
			{Key: "heartbeatTimeoutSecs", Value: int32(10)},
			{Key: "electionTimeoutMillis", Value: int32(10000)},
			{Key: "catchUpTimeoutMillis", Value: int32(-1)},
			{Key: "catchUpTakeoverDelayMillis", Value: int32(30000)},
			{Key: "getLastErrorModes", Value: bson.D{}},
			{Key: "getLastErrorDefaults", Value: bson.D{{Key: "w", Value: int32(1)}, {Key: "wtimeout", Value: int32(0)}}},
		})
	}
	if _, err := settings.LookupErr("replicaSetId"); err != nil {
		settings = appendElem(settings, "replicaSetId", bson.NewObjectID())
	}
	c.install(c.normalize(cfg, version, ms, settings), host)
	if !c.opts.NoElection {
		c.candidate, c.electAt = host, time.Now().Add(c.timings.Election)
	}
	return nil
}

// install makes cfg the current config: members new to the set start their way from
// UNKNOWN through STARTUP2 (except on the node that installs it), members that left
// remember that they once belonged (they answer 93 from then on). Callers hold mu.
func (c *Cluster) install(cfg bson.Raw, self string) {
	now := time.Now()
	old := map[string]bool{}
	if c.cfg != nil {
		for _, m := range c.members(c.cfg) {
			old[m.host] = true
		}
	}
	next := map[string]bool{}
	for _, m := range c.members(cfg) {
		next[m.host] = true
		c.everMember[m.host] = true
		if !old[m.host] && m.host != self {
			c.joined[m.host] = now
			delete(c.secondarySince, m.host)
			if c.opts.NewMemberState != "" && c.cfg != nil {
				c.states[m.host] = c.opts.NewMemberState
			}
		}
	}
	for h := range old {
		if !next[h] {
			delete(c.joined, h)
			delete(c.states, h)
			delete(c.secondarySince, h)
		}
	}
	c.cfg, c.cfgInstalledAt, c.cfgCommitted = cfg, now, false
}

// reconfig is replSetReconfig received by host, in mongod's order: checks that need no
// waiting, then the wait for the current config to commit, the quorum check, installing the
// new config and the wait for it to reach a majority. Callers hold mu; it is released
// while waiting.
func (c *Cluster) reconfig(host string, val bson.RawValue, deadline time.Time) *cmdErr {
	if c.cfg == nil {
		return fail(94, "no replset config has been received")
	}
	if host != c.currentPrimary() {
		return fail(10107, "replSetReconfig should only be run on a writable PRIMARY. Current state "+c.stateOf(host)+";")
	}
	if c.reconfiguring || time.Now().Before(c.autoReconfigUntil) {
		return fail(109, "Cannot run replSetReconfig because the node is currently updating its configuration")
	}
	cfg, ok := val.DocumentOK()
	if !ok {
		return fail(2, "replSetReconfig needs a config document")
	}
	if name, _ := cfg.Lookup(keyID).StringValueOK(); name != c.opts.SetName {
		return fail(93, "Attempting to reconfigure a replica set with name "+name+", but command line reports "+c.opts.SetName+"; rejecting")
	}
	ms, cerr := parseMembers(cfg)
	if cerr != nil {
		return cerr
	}
	for _, m := range ms {
		if m.newlyAdded {
			return fail(93, "newlyAdded field cannot be set by the user (member "+m.host+")")
		}
	}
	old := c.members(c.cfg)
	markNewlyAdded(old, ms)
	oldVersion, _ := c.cfg.Lookup("version").AsInt64OK()
	version, _ := cfg.Lookup("version").AsInt64OK()
	incompatible := validateMembers(ms)
	if incompatible == "" && version <= oldVersion {
		incompatible = fmt.Sprintf("New replica set config version %d must be greater than the current version %d for replica set %s", version, oldVersion, c.opts.SetName)
	}
	if incompatible == "" {
		if diff := voterDiff(old, ms); diff > 1 {
			incompatible = fmt.Sprintf("Rejecting reconfig where the new config has a voting member set that differs from the old config's voting member set by %d members; only one voting member may be added or removed at a time", diff)
		}
	}
	oldSettings, _ := c.cfg.Lookup("settings").DocumentOK()
	settings, hasSettings := cfg.Lookup("settings").DocumentOK()
	if !hasSettings {
		settings = oldSettings
	}
	oldID := oldSettings.Lookup("replicaSetId")
	if id, err := settings.LookupErr("replicaSetId"); err == nil && !id.Equal(oldID) {
		incompatible = "New and old configurations differ in replica set ID"
	} else if err != nil {
		settings = appendElem(settings, "replicaSetId", oldID.ObjectID())
	}
	if incompatible != "" {
		return fail(103, incompatible)
	}
	self := -1
	for i, m := range ms {
		if m.host == host {
			self = i
		}
	}
	if self < 0 {
		return fail(74, fmt.Sprintf("No host described in new configuration with {version: %d} for replica set %s maps to this node", version, c.opts.SetName))
	}
	if !ms[self].electable() {
		return fail(104, fmt.Sprintf("This node, %s, with _id MemberId(%d) is not electable under the new configuration with {version: %d, term: %d} for replica set %s",
			host, ms[self].id, version, c.term, c.opts.SetName))
	}

	c.reconfiguring = true
	defer func() { c.reconfiguring = false }()
	if !c.waitFor(deadline, c.committed) {
		return fail(308, fmt.Sprintf("Cannot run replSetReconfig because the current config: {version: %d, term: %d} is not yet committed", oldVersion, c.term))
	}
	need := majority(voterCount(ms))
	if c.reachableVoters(ms) < need {
		quorumDeadline := time.Now().Add(c.timings.QuorumCheck)
		if !c.waitFor(earliest(deadline, quorumDeadline), func() bool { return c.reachableVoters(ms) >= need }) {
			if time.Now().Before(quorumDeadline) {
				return fail(50, "operation exceeded time limit")
			}
			return fail(74, fmt.Sprintf("Quorum check failed because not enough voting nodes responded; required %d but only %d responded", need, c.reachableVoters(ms)))
		}
	}
	if host != c.currentPrimary() {
		return fail(11602, "operation was interrupted because a node stepped down")
	}
	c.install(c.normalize(cfg, version, ms, settings), host)
	if !c.waitFor(deadline, c.committed) {
		return fail(50, fmt.Sprintf("Current config with {version: %d, term: %d} has not yet propagated to a majority of nodes", version, c.term))
	}
	return nil
}

// markNewlyAdded does what mongod does to a user's reconfig before validating it: every
// voting member whose _id is new to the set gets "newlyAdded", and members that still have
// it in the current config keep it, so they vote only once they caught up.
func markNewlyAdded(old, next []memberInfo) {
	byID := map[int]memberInfo{}
	for _, m := range old {
		byID[m.id] = m
	}
	for i, m := range next {
		if o, existed := byID[m.id]; existed {
			next[i].newlyAdded = o.newlyAdded && m.votes > 0
		} else {
			next[i].newlyAdded = m.votes > 0
		}
	}
}

// voterDiff is the size of the symmetric difference of the voting members by _id, for
// mongod's single-node-change rule. It counts the votes field and ignores newlyAdded, which
// may be stricter than mongod (whether mongod 7.0 lets a reconfig add two voting members
// at once because both are newlyAdded is not settled here); mongors adds one at a time.
func voterDiff(old, next []memberInfo) int {
	voters := func(ms []memberInfo) map[int]bool {
		out := map[int]bool{}
		for _, m := range ms {
			if m.votes > 0 {
				out[m.id] = true
			}
		}
		return out
	}
	a, b := voters(old), voters(next)
	diff := 0
	for id := range a {
		if !b[id] {
			diff++
		}
	}
	for id := range b {
		if !a[id] {
			diff++
		}
	}
	return diff
}

// removeNewlyAdded is mongod's own reconfig that drops "newlyAdded" from members that
// caught up (SECONDARY), bumping the config version. It runs on the primary when no other
// reconfig does, and is itself a reconfig in progress for ConfigCommit: a user's reconfig
// meanwhile gets ConfigurationInProgress (109), one based on the version before it
// NewReplicaSetConfigurationIncompatible (103). Callers hold mu.
func (c *Cluster) removeNewlyAdded() {
	if c.cfg == nil || c.reconfiguring || c.primary == "" || time.Now().Before(c.autoReconfigUntil) || !c.committed() {
		return
	}
	ms := c.members(c.cfg)
	changed := false
	for i := range ms {
		if !ms[i].newlyAdded || c.stateOf(ms[i].host) != stateSecondary {
			continue
		}
		seen, ok := c.secondarySince[ms[i].host]
		if !ok {
			seen = time.Now()
			c.secondarySince[ms[i].host] = seen
		}
		if time.Since(seen) >= c.timings.NewlyAddedRemoval {
			ms[i].newlyAdded, changed = false, true
		}
	}
	if !changed {
		return
	}
	version, _ := c.cfg.Lookup("version").AsInt64OK()
	settings, _ := c.cfg.Lookup("settings").DocumentOK()
	c.cfg = c.normalize(c.cfg, version+1, ms, settings)
	c.cfgInstalledAt, c.cfgCommitted = time.Now(), false
	c.autoReconfigUntil = c.cfgInstalledAt.Add(c.timings.ConfigCommit)
}

// clientConfig is the config as replSetGetConfig shows it: without "newlyAdded", which
// mongod hides unless asked for it by a test-only parameter.
func (c *Cluster) clientConfig() bson.Raw {
	ms := c.members(c.cfg)
	for i := range ms {
		ms[i].newlyAdded = false
	}
	version, _ := c.cfg.Lookup("version").AsInt64OK()
	settings, _ := c.cfg.Lookup("settings").DocumentOK()
	return c.normalize(c.cfg, version, ms, settings)
}

// normalize builds the stored config the way mongod reports it: every member field filled
// in with its default, MongoDB's number types, the current term, and the settings.
func (c *Cluster) normalize(cfg bson.Raw, version int64, ms []memberInfo, settings bson.Raw) bson.Raw {
	members := make(bson.A, 0, len(ms))
	for _, m := range ms {
		d := bson.D{
			{Key: keyID, Value: int32(m.id)},
			{Key: "host", Value: m.host},
			{Key: "arbiterOnly", Value: false},
			{Key: "buildIndexes", Value: true},
			{Key: "hidden", Value: false},
			{Key: "priority", Value: m.priority},
			{Key: "tags", Value: bson.D{}},
			{Key: "secondaryDelaySecs", Value: int64(0)},
			{Key: "votes", Value: int32(m.votes)},
		}
		elems, _ := m.doc.Elements()
		for _, e := range elems {
			switch e.Key() {
			case keyID, "host", "priority", "votes", "newlyAdded":
				continue
			}
			replaced := false
			for i := range d {
				if d[i].Key == e.Key() {
					d[i].Value, replaced = e.Value(), true
				}
			}
			if !replaced {
				d = append(d, bson.E{Key: e.Key(), Value: e.Value()})
			}
		}
		if m.newlyAdded {
			d = append(d, bson.E{Key: "newlyAdded", Value: true})
		}
		members = append(members, d)
	}
	pv := int64(1)
	if v, err := cfg.LookupErr("protocolVersion"); err == nil {
		pv, _ = v.AsInt64OK()
	}
	wcj := true
	if v, err := cfg.LookupErr("writeConcernMajorityJournalDefault"); err == nil {
		wcj, _ = v.BooleanOK()
	}
	return mustMarshal(bson.D{
		{Key: keyID, Value: c.opts.SetName},
		{Key: "version", Value: int32(version)},
		{Key: "term", Value: c.term},
		{Key: "members", Value: members},
		{Key: "protocolVersion", Value: pv},
		{Key: "writeConcernMajorityJournalDefault", Value: wcj},
		{Key: "settings", Value: settings},
	})
}

func mustMarshal(v any) bson.Raw {
	b, err := bson.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// appendElem returns a copy of doc with key: val as its last element. doc's elements are
// copied byte for byte, so they keep their exact BSON types.
func appendElem(doc bson.Raw, key string, val any) bson.Raw {
	if err := doc.Validate(); err != nil {
		panic(err)
	}
	t, data, err := bson.MarshalValue(val)
	if err != nil {
		panic(err)
	}
	idx, out := bsoncore.AppendDocumentStart(make([]byte, 0, len(doc)+len(key)+len(data)+2))
	out = append(out, doc[4:len(doc)-1]...) // the elements, without doc's length and trailing NUL
	out = bsoncore.AppendValueElement(out, key, bsoncore.Value{Type: bsoncore.Type(t), Data: data})
	if out, err = bsoncore.AppendDocumentEnd(out, idx); err != nil {
		panic(err)
	}
	return out
}
