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
	id         int
	host       string
	votes      int
	priority   float64
	newlyAdded bool
	doc        bson.Raw
}

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

// parseMembers reads and checks the members array the way mongod's config validation does
// for the rules the double models.
func parseMembers(cfg bson.Raw) ([]memberInfo, *cmdErr) {
	arr, ok := cfg.Lookup("members").ArrayOK()
	if !ok {
		return nil, fail(93, "replica set configuration must have a members array")
	}
	vals, _ := arr.Values()
	if len(vals) == 0 {
		return nil, fail(93, "replica set configuration must have at least one member")
	}
	var out []memberInfo
	ids, hosts := map[int]bool{}, map[string]bool{}
	voters := 0
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
		m.newlyAdded, _ = doc.Lookup("newlyAdded").BooleanOK()
		if m.votes != 0 && m.votes != 1 {
			return nil, fail(93, fmt.Sprintf("member %d: votes must be 0 or 1", id))
		}
		if m.votes == 0 && m.priority != 0 {
			return nil, fail(93, fmt.Sprintf("member %d: priority must be 0 when non-voting (votes:0)", id))
		}
		if ids[m.id] {
			return nil, fail(93, fmt.Sprintf("Found two member configurations with same _id field, members.%d._id", id))
		}
		if hosts[host] {
			return nil, fail(93, "Found two member configurations with same host field "+host)
		}
		ids[m.id], hosts[host] = true, true
		if m.votes > 0 {
			voters++
		}
		out = append(out, m)
	}
	if voters == 0 || voters > maxVoters {
		return nil, fail(93, fmt.Sprintf("Replica set configuration contains %d voting members, but must be at least 1 and no more than %d", voters, maxVoters))
	}
	return out, nil
}

// initiate is replSetInitiate received by host. Callers hold mu.
func (c *Cluster) initiate(host string, cfg bson.Raw) *cmdErr {
	if c.cfg != nil {
		return fail(23, "already initialized")
	}
	if name, _ := cfg.Lookup(keyID).StringValueOK(); name != c.opts.SetName {
		return fail(93, fmt.Sprintf("Attempting to initiate a replica set with name %s, but command line reports %s; rejecting", name, c.opts.SetName))
	}
	ms, cerr := parseMembers(cfg)
	if cerr != nil {
		return cerr
	}
	version := int64(1)
	if v, err := cfg.LookupErr("version"); err == nil {
		version, _ = v.AsInt64OK()
	}
	found := false
	for _, m := range ms {
		found = found || m.host == host
		if m.newlyAdded {
			return fail(93, "newlyAdded field cannot be set by the user")
		}
		if n, ok := c.nodes[m.host]; !ok || n.stopped {
			return fail(74, "replSetInitiate quorum check failed because not all proposed set members responded affirmatively: "+m.host+" failed with Connection refused")
		}
	}
	if !found {
		return fail(93, fmt.Sprintf("No host described in new configuration with {version: %d, term: 0} for replica set %s maps to this node", version, c.opts.SetName))
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
	c.cfg = c.normalize(cfg, version, ms, settings)
	c.initiator, c.initiatedAt = host, time.Now()
	return nil
}

// reconfig is replSetReconfig received by host. Callers hold mu.
func (c *Cluster) reconfig(host string, val bson.RawValue) *cmdErr {
	if c.cfg == nil {
		return fail(94, "no replset config has been received")
	}
	if host != c.currentPrimary() {
		return fail(10107, "replSetReconfig should only be run on a writable PRIMARY. Current state "+c.stateOf(host)+";")
	}
	cfg, ok := val.DocumentOK()
	if !ok {
		return fail(2, "replSetReconfig needs a config document")
	}
	if name, _ := cfg.Lookup(keyID).StringValueOK(); name != c.opts.SetName {
		return fail(103, "New and old configurations differ in replica set name; old was "+c.opts.SetName+", and new is "+name)
	}
	oldVersion, _ := c.cfg.Lookup("version").AsInt64OK()
	version, _ := cfg.Lookup("version").AsInt64OK()
	if version != oldVersion+1 {
		return fail(103, fmt.Sprintf("New replica set configuration version must be the current version plus one (test double), but %d is not %d+1 for replica set %s", version, oldVersion, c.opts.SetName))
	}
	ms, cerr := parseMembers(cfg)
	if cerr != nil {
		return cerr
	}
	old := c.members(c.cfg)
	oldByHost := map[string]memberInfo{}
	for _, m := range old {
		oldByHost[m.host] = m
	}
	found := false
	for i, m := range ms {
		found = found || m.host == host
		if m.newlyAdded {
			return fail(93, "newlyAdded field cannot be set by the user")
		}
		// mongod marks a new voting member newlyAdded (not counted as a voter) until it is
		// a caught-up SECONDARY, and keeps the mark on members that still have it.
		if o, existed := oldByHost[m.host]; existed {
			ms[i].newlyAdded = o.newlyAdded && m.votes > 0
		} else if m.votes > 0 && c.stateForNew(m.host) != stateSecondary {
			ms[i].newlyAdded = true
		}
	}
	if !found {
		return fail(74, fmt.Sprintf("No host described in new configuration with {version: %d} for replica set %s maps to this node", version, c.opts.SetName))
	}
	if diff := voterDiff(old, ms); diff > 1 {
		return fail(103, fmt.Sprintf("Rejecting reconfig where the new config has a voting member set that differs from the old config's voting member set by %d members; only one voting member may be added or removed at a time", diff))
	}
	oldSettings, _ := c.cfg.Lookup("settings").DocumentOK()
	settings, hasSettings := cfg.Lookup("settings").DocumentOK()
	if !hasSettings {
		settings = oldSettings
	}
	oldID := oldSettings.Lookup("replicaSetId")
	if id, err := settings.LookupErr("replicaSetId"); err == nil && !id.Equal(oldID) {
		return fail(103, "New and old configurations differ in replica set ID")
	} else if err != nil {
		settings = appendElem(settings, "replicaSetId", oldID.ObjectID())
	}
	for _, m := range ms {
		if _, existed := oldByHost[m.host]; !existed {
			if _, set := c.states[m.host]; !set {
				c.states[m.host] = c.opts.NewMemberState
			}
		}
	}
	c.cfg = c.normalize(cfg, version, ms, settings)
	// A primary made unelectable steps down; the first electable caught-up member wins.
	for _, m := range ms {
		if m.host == c.primary && m.priority == 0 {
			_ = c.stepDown(host)
		}
	}
	return nil
}

func (c *Cluster) stateForNew(host string) string {
	if n, ok := c.nodes[host]; !ok || n.stopped {
		return stateDown
	}
	if s, ok := c.states[host]; ok {
		return s
	}
	return c.opts.NewMemberState
}

// voterDiff is the size of the symmetric difference of the voting members (votes > 0 in
// the config, newlyAdded or not), by host.
func voterDiff(old, next []memberInfo) int {
	voters := func(ms []memberInfo) map[string]bool {
		out := map[string]bool{}
		for _, m := range ms {
			if m.votes > 0 {
				out[m.host] = true
			}
		}
		return out
	}
	a, b := voters(old), voters(next)
	diff := 0
	for h := range a {
		if !b[h] {
			diff++
		}
	}
	for h := range b {
		if !a[h] {
			diff++
		}
	}
	return diff
}

// clearNewlyAdded ends a member's newlyAdded phase with an automatic reconfig. Callers hold mu.
func (c *Cluster) clearNewlyAdded(host string) {
	ms := c.members(c.cfg)
	changed := false
	for i := range ms {
		if ms[i].host == host && ms[i].newlyAdded {
			ms[i].newlyAdded, changed = false, true
		}
	}
	if !changed {
		return
	}
	version, _ := c.cfg.Lookup("version").AsInt64OK()
	settings, _ := c.cfg.Lookup("settings").DocumentOK()
	c.cfg = c.normalize(c.cfg, version+1, ms, settings)
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
