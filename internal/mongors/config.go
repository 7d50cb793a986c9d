package mongors

import (
	"fmt"
	"maps"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// MaxVotingMembers is MongoDB's limit on voting members in one replica set. Members beyond it
// are added with votes 0 and priority 0 (MongoDB refuses a non-voting member with priority).
const MaxVotingMembers = 7

// DefaultPort is the port mongod listens on in every pod.
const DefaultPort = 27017

// Topology names the members of one replica set the way the StatefulSet and its headless
// Service make them resolvable: <name>-mongodb-<i>.<name>-mongodb-headless.<ns>.svc.<domain>.
type Topology struct {
	// Name is the LittleEcom object's name.
	Name string
	// Namespace is the LittleEcom object's namespace.
	Namespace string
	// ReplicaSet is the replica-set name mongod runs with (--replSet).
	ReplicaSet string
	// ClusterDomain defaults to cluster.local.
	ClusterDomain string
	// Port defaults to DefaultPort.
	Port int
}

// Host returns member i's stable address, host:port.
func (t Topology) Host(i int) string {
	domain, port := t.ClusterDomain, t.Port
	if domain == "" {
		domain = "cluster.local"
	}
	if port == 0 {
		port = DefaultPort
	}
	return fmt.Sprintf("%s-mongodb-%d.%s-mongodb-headless.%s.svc.%s:%d", t.Name, i, t.Name, t.Namespace, domain, port)
}

// Config is a replica-set configuration document as replSetGetConfig returns it and
// replSetInitiate/replSetReconfig take it. Fields the operator does not manage are kept in
// Extra and Settings so that a reconfig sends them back unchanged.
type Config struct {
	ID      string `bson:"_id"`
	Version int64  `bson:"version"`
	// Term is reported by MongoDB 4.4+; it is never sent back (the primary sets it).
	Term                               int64    `bson:"term,omitempty"`
	ProtocolVersion                    int64    `bson:"protocolVersion,omitempty"`
	WriteConcernMajorityJournalDefault *bool    `bson:"writeConcernMajorityJournalDefault,omitempty"`
	Members                            []Member `bson:"members"`
	Settings                           bson.Raw `bson:"settings,omitempty"`
	Extra                              bson.M   `bson:",inline"`
}

// Member is one entry of Config.Members. ID is the StatefulSet ordinal.
type Member struct {
	ID                 int               `bson:"_id"`
	Host               string            `bson:"host"`
	ArbiterOnly        bool              `bson:"arbiterOnly,omitempty"`
	BuildIndexes       *bool             `bson:"buildIndexes,omitempty"`
	Hidden             bool              `bson:"hidden,omitempty"`
	Priority           float64           `bson:"priority"`
	Tags               map[string]string `bson:"tags,omitempty"`
	SecondaryDelaySecs int64             `bson:"secondaryDelaySecs,omitempty"`
	Votes              int               `bson:"votes"`
	// Extra keeps fields this type does not model. "newlyAdded" (set by MongoDB 4.4+ while a
	// member catches up) is dropped: a reconfig that carries it is refused.
	Extra bson.M `bson:",inline"`
}

// Voting reports whether the member votes in elections.
func (m Member) Voting() bool { return m.Votes > 0 }

// Clone returns a deep copy, so a computed next config never aliases the current one.
func (c Config) Clone() Config {
	out := c
	out.Members = make([]Member, len(c.Members))
	for i, m := range c.Members {
		m.Tags = maps.Clone(m.Tags)
		m.Extra = maps.Clone(m.Extra)
		if m.BuildIndexes != nil {
			b := *m.BuildIndexes
			m.BuildIndexes = &b
		}
		out.Members[i] = m
	}
	out.Settings = slices.Clone(c.Settings)
	out.Extra = maps.Clone(c.Extra)
	if c.WriteConcernMajorityJournalDefault != nil {
		b := *c.WriteConcernMajorityJournalDefault
		out.WriteConcernMajorityJournalDefault = &b
	}
	return out
}

// Member returns the member with the given _id.
func (c Config) Member(id int) (Member, bool) {
	for _, m := range c.Members {
		if m.ID == id {
			return m, true
		}
	}
	return Member{}, false
}

// VotingIDs returns the _ids of the voting members, ascending.
func (c Config) VotingIDs() []int {
	var ids []int
	for _, m := range c.Members {
		if m.Voting() {
			ids = append(ids, m.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

// IDs returns every member's _id, ascending.
func (c Config) IDs() []int {
	ids := make([]int, 0, len(c.Members))
	for _, m := range c.Members {
		ids = append(ids, m.ID)
	}
	slices.Sort(ids)
	return ids
}

// forSend returns the document to send in replSetReconfig: server-owned fields removed.
func (c Config) forSend() Config {
	out := c.Clone()
	out.Term = 0
	for i := range out.Members {
		delete(out.Members[i].Extra, "newlyAdded")
		if len(out.Members[i].Extra) == 0 {
			out.Members[i].Extra = nil
		}
	}
	if len(out.Extra) == 0 {
		out.Extra = nil
	}
	return out
}

// desiredMember is the member the operator adds for ordinal id.
func desiredMember(t Topology, id int) Member {
	m := Member{ID: id, Host: t.Host(id), Priority: 1, Votes: 1}
	if id >= MaxVotingMembers {
		m.Priority, m.Votes = 0, 0
	}
	return m
}

// InitialConfig is the config replSetInitiate receives: ordinals 0..members-1, version 1.
// Initiation may name every member at once: the one-voter-per-change rule below only
// applies to reconfigs of a running set.
func InitialConfig(t Topology, members int) Config {
	cfg := Config{ID: t.ReplicaSet, Version: 1}
	for i := range members {
		cfg.Members = append(cfg.Members, desiredMember(t, i))
	}
	return cfg
}

// NextConfig returns the next config on the way from cur to a set of ordinals
// 0..members-1, with cur.Version+1, and true; or cur and false when cur already has exactly
// those members. Call it again with the config MongoDB reports after each reconfig: it only
// looks at the current config, so resuming after any failure is the same as continuing.
//
// The rule for one step (MongoDB 4.4+ "safe reconfig" refuses a config whose voting members
// differ from the current ones by more than one, and it is Raft's single-server change: any
// majority of the old voters then intersects any majority of the new ones, so two primaries
// cannot be elected across the change):
//
//  1. Scale down, first step: every member that will be removed gets priority 0 (no vote
//     changes), so none of them is elected while the set shrinks. mongod refuses a
//     reconfig that leaves the node running it unelectable (NodeNotElectable, 104): when
//     the primary is among them, Ensure has it step down first and sends this step to the
//     next primary.
//  2. Then remove one member per step, highest ordinal first.
//  3. Then fix the votes of the members that stay (only needed when someone edited the
//     config by hand): one voter more or less per step, ordinals 0..6 vote.
//  4. Then add one member per step, lowest ordinal first; ordinals 7 and up as non-voting.
//
// Settings, protocolVersion and the members' other fields are carried over unchanged.
func NextConfig(cur Config, t Topology, members int) (Config, bool) {
	next := cur.Clone()
	next.Version = cur.Version + 1
	next.Term = 0

	// 1 and 2: removals, highest ordinal first, after a priority-0 step.
	var removed []int
	for _, m := range cur.Members {
		if m.ID >= members {
			removed = append(removed, m.ID)
		}
	}
	if len(removed) > 0 {
		demoted := false
		for i, m := range next.Members {
			if m.ID >= members && m.Priority != 0 {
				next.Members[i].Priority = 0
				demoted = true
			}
		}
		if demoted {
			return next, true
		}
		highest := slices.Max(removed)
		next.Members = slices.DeleteFunc(next.Members, func(m Member) bool { return m.ID == highest })
		return next, true
	}

	// 3: votes of the members that stay.
	for i, m := range next.Members {
		want := desiredMember(t, m.ID)
		if m.Votes != want.Votes {
			next.Members[i].Votes = want.Votes
			if want.Votes == 0 {
				next.Members[i].Priority = 0
			} else if m.Priority == 0 {
				next.Members[i].Priority = 1
			}
			return next, true
		}
	}

	// 4: additions, lowest ordinal first.
	for id := range members {
		if _, ok := cur.Member(id); !ok {
			next.Members = append(next.Members, desiredMember(t, id))
			slices.SortFunc(next.Members, func(a, b Member) int { return a.ID - b.ID })
			return next, true
		}
	}
	return cur, false
}

// SameMembers reports whether cfg has exactly the members 0..members-1.
func SameMembers(cfg Config, members int) bool {
	ids := cfg.IDs()
	if len(ids) != members {
		return false
	}
	for i, id := range ids {
		if id != i {
			return false
		}
	}
	return true
}

// Majority is the number of votes that elect a primary and commit a write among n voters.
func Majority(n int) int { return n/2 + 1 }
