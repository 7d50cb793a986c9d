package mongors

import (
	"fmt"
	"slices"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

var testTopo = Topology{Name: "shop", Namespace: "prod", ReplicaSet: "rs0"}

func TestTopologyHost(t *testing.T) {
	for _, tc := range []struct {
		topo Topology
		i    int
		want string
	}{
		{testTopo, 0, "shop-mongodb-0.shop-mongodb-headless.prod.svc.cluster.local:27017"},
		{testTopo, 4, "shop-mongodb-4.shop-mongodb-headless.prod.svc.cluster.local:27017"},
		{Topology{Name: "a", Namespace: "b", ClusterDomain: "corp.example", Port: 27018}, 1, "a-mongodb-1.a-mongodb-headless.b.svc.corp.example:27018"},
	} {
		if got := tc.topo.Host(tc.i); got != tc.want {
			t.Errorf("Host(%d) = %q, want %q", tc.i, got, tc.want)
		}
	}
}

func TestInitialConfig(t *testing.T) {
	cfg := InitialConfig(testTopo, 3)
	if cfg.ID != "rs0" || cfg.Version != 1 || len(cfg.Members) != 3 {
		t.Fatalf("got %+v", cfg)
	}
	for i, m := range cfg.Members {
		if m.ID != i || m.Host != testTopo.Host(i) || m.Votes != 1 || m.Priority != 1 {
			t.Errorf("member %d = %+v", i, m)
		}
	}
	nine := InitialConfig(testTopo, 9)
	if got := len(nine.VotingIDs()); got != MaxVotingMembers {
		t.Errorf("9 members: %d voters, want %d", got, MaxVotingMembers)
	}
	for _, m := range nine.Members[7:] {
		if m.Votes != 0 || m.Priority != 0 {
			t.Errorf("member %d beyond 7 voters = %+v, want votes 0 priority 0", m.ID, m)
		}
	}
}

// converge applies NextConfig until it reports no change, checking every step, and returns
// the final config and the steps taken.
func converge(t *testing.T, cur Config, members int) (Config, []Config) {
	t.Helper()
	var steps []Config
	for range 32 {
		next, changed := NextConfig(cur, testTopo, members)
		if !changed {
			if next.Version != cur.Version {
				t.Fatalf("unchanged config got a new version")
			}
			return cur, steps
		}
		checkStep(t, cur, next)
		steps = append(steps, next)
		cur = next
	}
	t.Fatalf("NextConfig did not converge to %d members", members)
	return cur, steps
}

// checkStep asserts the invariants of one reconfig.
func checkStep(t *testing.T, cur, next Config) {
	t.Helper()
	if next.Version != cur.Version+1 {
		t.Errorf("version %d -> %d, want +1", cur.Version, next.Version)
	}
	if next.ID != cur.ID || next.ProtocolVersion != cur.ProtocolVersion || !slices.Equal(next.Settings, cur.Settings) {
		t.Errorf("set name, protocolVersion or settings changed: %+v -> %+v", cur, next)
	}
	// ids stable: a member present before and after keeps its host.
	for _, m := range next.Members {
		if old, ok := cur.Member(m.ID); ok && old.Host != m.Host {
			t.Errorf("member %d moved from %s to %s", m.ID, old.Host, m.Host)
		}
	}
	// At most one voter added or removed (MongoDB 4.4+ safe reconfig), and therefore every
	// majority of the old voters intersects every majority of the new ones.
	a, b := cur.VotingIDs(), next.VotingIDs()
	diff := 0
	for _, id := range a {
		if !slices.Contains(b, id) {
			diff++
		}
	}
	for _, id := range b {
		if !slices.Contains(a, id) {
			diff++
		}
	}
	if diff > 1 {
		t.Errorf("voters %v -> %v: %d changes in one reconfig", a, b, diff)
	}
	union := len(a) + len(b) - (len(a)+len(b)-diff)/2
	if Majority(len(a))+Majority(len(b)) <= union {
		t.Errorf("voters %v -> %v: majorities need not intersect", a, b)
	}
	if len(b) > MaxVotingMembers {
		t.Errorf("%d voting members", len(b))
	}
	// A member is removed only after an earlier step made it unelectable.
	for _, m := range cur.Members {
		if _, kept := next.Member(m.ID); !kept && m.Priority != 0 {
			t.Errorf("member %d removed while electable (priority %v)", m.ID, m.Priority)
		}
	}
	for _, m := range next.Members {
		if m.Votes == 0 && m.Priority != 0 {
			t.Errorf("member %d non-voting with priority %v", m.ID, m.Priority)
		}
	}
}

func TestNextConfig_ScaleSequence(t *testing.T) {
	settings, _ := bson.Marshal(bson.D{{Key: "chainingAllowed", Value: true}, {Key: "replicaSetId", Value: bson.NewObjectID()}})
	cur := InitialConfig(testTopo, 1)
	cur.ProtocolVersion, cur.Settings, cur.Term = 1, settings, 3

	for _, tc := range []struct {
		members int
		steps   int
	}{
		{3, 2}, // add 1, add 2
		{5, 2}, // add 3, add 4
		{3, 3}, // priority 0 on 3 and 4, remove 4, remove 3
		{1, 3}, // priority 0 on 1 and 2, remove 2, remove 1
	} {
		t.Run(fmt.Sprintf("to %d", tc.members), func(t *testing.T) {
			start := cur.Version
			final, steps := converge(t, cur, tc.members)
			if len(steps) != tc.steps {
				t.Errorf("%d steps, want %d", len(steps), tc.steps)
			}
			if !SameMembers(final, tc.members) {
				t.Errorf("final members %v, want 0..%d", final.IDs(), tc.members-1)
			}
			if final.Version != start+int64(len(steps)) {
				t.Errorf("final version %d, want %d", final.Version, start+int64(len(steps)))
			}
			for _, m := range final.Members {
				if m.Host != testTopo.Host(m.ID) || m.Votes != 1 {
					t.Errorf("member %+v", m)
				}
			}
			cur = final
		})
	}
}

func TestNextConfig_ScaleDownRemovesHighestOrdinalFirst(t *testing.T) {
	cur := InitialConfig(testTopo, 5)
	_, steps := converge(t, cur, 3)
	if got := steps[0].IDs(); !slices.Equal(got, []int{0, 1, 2, 3, 4}) {
		t.Fatalf("first step must only demote, members %v", got)
	}
	for _, id := range []int{3, 4} {
		if m, _ := steps[0].Member(id); m.Priority != 0 || m.Votes != 1 {
			t.Errorf("first step member %d = %+v, want priority 0, still voting", id, m)
		}
	}
	if got := steps[1].IDs(); !slices.Equal(got, []int{0, 1, 2, 3}) {
		t.Errorf("second step members %v, want 4 removed", got)
	}
}

func TestNextConfig_BeyondSevenVoters(t *testing.T) {
	cur := InitialConfig(testTopo, 7)
	up, steps := converge(t, cur, 9)
	if len(steps) != 2 || len(up.VotingIDs()) != 7 {
		t.Fatalf("7 -> 9: %d steps, voters %v", len(steps), up.VotingIDs())
	}
	down, steps := converge(t, up, 7)
	if len(steps) != 2 || !SameMembers(down, 7) || len(down.VotingIDs()) != 7 {
		t.Fatalf("9 -> 7: %d steps, members %v voters %v", len(steps), down.IDs(), down.VotingIDs())
	}
}

func TestNextConfig_FixesHandEditedVotesOneAtATime(t *testing.T) {
	cur := InitialConfig(testTopo, 5)
	for i := 1; i < 5; i++ {
		cur.Members[i].Votes, cur.Members[i].Priority = 0, 0
	}
	final, steps := converge(t, cur, 5)
	if len(steps) != 4 || len(final.VotingIDs()) != 5 {
		t.Errorf("%d steps, voters %v", len(steps), final.VotingIDs())
	}
}

func TestNextConfig_KeepsUnmodelledFieldsAndDoesNotAlias(t *testing.T) {
	cur := InitialConfig(testTopo, 3)
	cur.Members[0].Tags = map[string]string{"zone": "a"}
	cur.Members[1].Extra = bson.M{"newlyAdded": true}
	cur.Extra = bson.M{"configsvr": false}
	next, changed := NextConfig(cur, testTopo, 4)
	if !changed {
		t.Fatal("no change")
	}
	next.Members[0].Tags["zone"] = "b"
	if cur.Members[0].Tags["zone"] != "a" {
		t.Error("next aliases cur's tags")
	}
	sent := next.forSend()
	if _, ok := sent.Members[1].Extra["newlyAdded"]; ok {
		t.Error("newlyAdded must not be sent")
	}
	if sent.Extra["configsvr"] != false {
		t.Error("top-level unknown fields must be sent back")
	}
	if _, ok := next.Members[1].Extra["newlyAdded"]; !ok {
		t.Error("forSend modified its receiver")
	}
}

func TestConfig_DecodesWhatMongodReports(t *testing.T) {
	// replSetGetConfig's number types: version int32, term/protocolVersion int64,
	// priority double, votes int32, secondaryDelaySecs int64.
	raw, _ := bson.Marshal(bson.D{
		{Key: "_id", Value: "rs0"}, {Key: "version", Value: int32(4)}, {Key: "term", Value: int64(2)},
		{Key: "members", Value: bson.A{bson.D{
			{Key: "_id", Value: int32(0)}, {Key: "host", Value: "h:27017"}, {Key: "arbiterOnly", Value: false},
			{Key: "buildIndexes", Value: true}, {Key: "hidden", Value: false}, {Key: "priority", Value: 1.0},
			{Key: "tags", Value: bson.D{}}, {Key: "secondaryDelaySecs", Value: int64(0)}, {Key: "votes", Value: int32(1)},
			{Key: "newlyAdded", Value: true},
		}}},
		{Key: "protocolVersion", Value: int64(1)}, {Key: "writeConcernMajorityJournalDefault", Value: true},
		{Key: "settings", Value: bson.D{{Key: "chainingAllowed", Value: true}}},
	})
	var cfg Config
	if err := bson.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	m := cfg.Members[0]
	if cfg.Version != 4 || cfg.Term != 2 || cfg.ProtocolVersion != 1 || m.Priority != 1 || m.Votes != 1 ||
		m.BuildIndexes == nil || !*m.BuildIndexes || m.Extra["newlyAdded"] != true || len(cfg.Settings) == 0 {
		t.Errorf("decoded %+v member %+v", cfg, m)
	}
}
