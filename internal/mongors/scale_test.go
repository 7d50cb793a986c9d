package mongors_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"littleecom.io/littleecom/internal/mongors"
	"littleecom.io/littleecom/internal/mongors/mongorstest"
)

// memberJSON renders one member the way mongors sends it: members read back from mongod
// carry buildIndexes (mongod fills it in), members the operator adds do not.
func memberJSON(id int, priority string, existing bool) string {
	bi := ""
	if existing {
		bi = `"buildIndexes":true,`
	}
	return fmt.Sprintf(`{"_id":%d,"host":"%s",%s"priority":%s,"votes":1}`, id, topo.Host(id), bi, priority)
}

// reconfigs returns the replSetReconfig commands as (host, version, members JSON), and
// checks that each one carried the settings of the config it replaced.
func reconfigs(t *testing.T, rs *mongorstest.Cluster, settings bson.Raw) []string {
	t.Helper()
	var out []string
	for _, c := range rs.Commands("replSetReconfig") {
		cfg := c.Doc.Lookup("replSetReconfig").Document()
		if got := cfg.Lookup("settings").Document(); !bytesEqual(got, settings) {
			t.Errorf("reconfig settings %s, want %s", got, settings)
		}
		if _, err := cfg.LookupErr("term"); err == nil {
			t.Error("reconfig sent the term")
		}
		if c.DB != "admin" {
			t.Errorf("reconfig on db %s", c.DB)
		}
		version := cfg.Lookup("version").AsInt64()
		out = append(out, fmt.Sprintf("%s v%d %s", shortHost(c.Host), version, relaxed(t, cfg.Lookup("members"))))
	}
	return out
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }

func shortHost(h string) string { return h[:strings.IndexByte(h, '.')] }

func TestEnsure_Scale3To5To3_ExactReconfigs(t *testing.T) {
	rs, d, target := startRS(t, 5, mongorstest.Options{})
	mustReady(t, ensure(t, d, target, desired(3)))
	settings := rs.Config().Lookup("settings").Document()
	if _, err := settings.LookupErr("replicaSetId"); err != nil {
		t.Fatal("double did not set replicaSetId")
	}

	res := ensure(t, d, target, desired(5))
	mustReady(t, res)
	// mongod imitated: each member added (newlyAdded) is followed by mongod's own reconfig
	// that drops newlyAdded once the member is a SECONDARY, so versions 3 and 5 are its own.
	if res.Reconfigs != 2 || res.ConfigVersion != 5 {
		t.Errorf("scale up result %+v", res)
	}
	m := func(id int, prio string, existing bool) string { return memberJSON(id, prio, existing) }
	wantUp := []string{
		"shop-mongodb-0 v2 [" + strings.Join([]string{m(0, "1.0", true), m(1, "1.0", true), m(2, "1.0", true), m(3, "1.0", false)}, ",") + "]",
		"shop-mongodb-0 v4 [" + strings.Join([]string{m(0, "1.0", true), m(1, "1.0", true), m(2, "1.0", true), m(3, "1.0", true), m(4, "1.0", false)}, ",") + "]",
	}
	assertLines(t, "scale up", reconfigs(t, rs, settings), wantUp)

	rs.ResetCommands()
	res = ensure(t, d, target, desired(3))
	mustReady(t, res)
	if res.Reconfigs != 3 || res.ConfigVersion != 8 {
		t.Errorf("scale down result %+v", res)
	}
	wantDown := []string{
		"shop-mongodb-0 v6 [" + strings.Join([]string{m(0, "1.0", true), m(1, "1.0", true), m(2, "1.0", true), m(3, "0.0", true), m(4, "0.0", true)}, ",") + "]",
		"shop-mongodb-0 v7 [" + strings.Join([]string{m(0, "1.0", true), m(1, "1.0", true), m(2, "1.0", true), m(3, "0.0", true)}, ",") + "]",
		"shop-mongodb-0 v8 [" + strings.Join([]string{m(0, "1.0", true), m(1, "1.0", true), m(2, "1.0", true)}, ",") + "]",
	}
	assertLines(t, "scale down", reconfigs(t, rs, settings), wantDown)

	res = ensure(t, d, target, desired(3))
	mustReady(t, res)
	if res.Reconfigs != 0 {
		t.Errorf("reconfigured a converged set: %+v", res)
	}
}

func assertLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s reconfigs\n got:\n%s\nwant:\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestEnsure_ScaleUpWaitsForNewMemberToCatchUp(t *testing.T) {
	rs, d, target := startRS(t, 5, mongorstest.Options{NewMemberState: mongors.StateStartup2})
	mustReady(t, ensure(t, d, target, desired(3)))

	res := ensure(t, d, target, desired(5))
	if res.Ready || res.Reconfigs != 1 || !strings.Contains(res.Message, "STARTUP2") {
		t.Fatalf("result %+v", res)
	}
	// mongod marks the new member newlyAdded; mongors must not send that field back.
	res = ensure(t, d, target, desired(5))
	if res.Ready || res.Reconfigs != 0 {
		t.Fatalf("reconfigured while member 3 catches up: %+v", res)
	}

	// Member 3 caught up: mongod drops newlyAdded with its own reconfig (version 3).
	rs.SetState(topo.Host(3), mongors.StateSecondary)
	if v := rs.Config().Lookup("version").Int32(); v != 3 {
		t.Fatalf("double's automatic reconfig: version %d", v)
	}
	res = ensure(t, d, target, desired(5))
	if res.Reconfigs != 1 || res.ConfigVersion != 4 {
		t.Fatalf("result %+v", res)
	}
	for _, c := range rs.Commands("replSetReconfig") {
		if strings.Contains(c.Doc.String(), "newlyAdded") {
			t.Errorf("reconfig sent newlyAdded: %s", c.Doc)
		}
	}
	rs.SetState(topo.Host(4), mongors.StateSecondary)
	mustReady(t, ensure(t, d, target, desired(5)))
}

func TestEnsure_ReconfigGoesToThePrimaryWhereverItMoved(t *testing.T) {
	rs, d, target := startRS(t, 5, mongorstest.Options{})
	mustReady(t, ensure(t, d, target, desired(3)))
	rs.SetPrimary(topo.Host(2))
	mustReady(t, ensure(t, d, target, desired(5, backendUser)))
	for _, c := range rs.Commands("replSetReconfig", "createUser") {
		if c.Host != topo.Host(2) {
			t.Errorf("%s sent to %s, want the primary", c.Name, shortHost(c.Host))
		}
	}
}

func TestEnsure_ScaleDownWhenThePrimaryIsRemoved(t *testing.T) {
	// The new primary takes a moment to win its election after the step-down.
	timings := mongorstest.InstantTimings()
	timings.Handover = 200 * time.Millisecond
	rs, d, target := startRS(t, 5, mongorstest.Options{Timings: &timings})
	mustReady(t, ensure(t, d, target, desired(5)))
	rs.SetPrimary(topo.Host(4))
	rs.ResetCommands()

	// mongod imitated: a reconfig that leaves the node running it unelectable is refused
	// (NodeNotElectable, 104), so the primary on member 4 steps down before the demotion,
	// and Ensure goes on with its successor in the same call.
	res := ensure(t, d, target, desired(3))
	mustReady(t, res)
	if res.Reconfigs != 3 || len(commandsOn(rs, topo.Host(4), "replSetStepDown")) != 1 || rs.Primary() == topo.Host(4) {
		t.Fatalf("result %+v, primary %s", res, rs.Primary())
	}
	got := reconfigs(t, rs, rs.Config().Lookup("settings").Document())
	if len(got) != 3 || !strings.HasPrefix(got[0], "shop-mongodb-0 v") {
		t.Errorf("reconfigs:\n%s", strings.Join(got, "\n"))
	}
	for _, c := range rs.Commands("replSetReconfig") {
		if c.Host == topo.Host(4) {
			t.Error("a reconfig went to member 4, which is being removed")
		}
	}
}

func TestEnsure_TransientReconfigFailuresResume(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault mongorstest.Fault
	}{
		{"ConfigurationInProgress", mongorstest.Fault{Command: "replSetReconfig", Code: mongors.CodeConfigurationInProgress}},
		{"CurrentConfigNotCommittedYet", mongorstest.Fault{Command: "replSetReconfig", Code: mongors.CodeCurrentConfigNotCommittedYet}},
		{"NotWritablePrimary", mongorstest.Fault{Command: "replSetReconfig", Code: mongors.CodeNotWritablePrimary}},
		{"connection dropped", mongorstest.Fault{Command: "replSetReconfig", Drop: true}},
		{"reply lost after the reconfig applied", mongorstest.Fault{Command: "replSetReconfig", DropAfterRun: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, d, target := startRS(t, 5, mongorstest.Options{})
			mustReady(t, ensure(t, d, target, desired(3)))
			rs.Inject(tc.fault)
			res := ensure(t, d, target, desired(5))
			if res.Ready || res.Phase != mongors.PhaseReconfiguring || strings.Contains(res.Message, rootPassword) {
				t.Fatalf("result %+v", res)
			}
			res = ensure(t, d, target, desired(5))
			mustReady(t, res)
			if v := rs.Config().Lookup("version").Int32(); v != 5 {
				t.Errorf("final version %d, want 5 (two member additions, each followed by mongod's removal of newlyAdded)", v)
			}
			for _, c := range rs.Commands("replSetReconfig") {
				if strings.Contains(c.Doc.String(), "NewReplicaSetConfigurationIncompatible") {
					t.Error("stale version sent")
				}
			}
		})
	}
}

func TestEnsure_ScaleDownRemovesAStuckMember(t *testing.T) {
	// Member 3 never caught up (STARTUP2) and member 4 is gone: scaling to 3 must still work.
	rs, d, target := startRS(t, 5, mongorstest.Options{})
	mustReady(t, ensure(t, d, target, desired(5)))
	rs.SetState(topo.Host(3), mongors.StateStartup2)
	rs.Stop(topo.Host(4))
	res := ensure(t, d, target, desired(3))
	mustReady(t, res)
	if res.Reconfigs != 3 {
		t.Errorf("result %+v", res)
	}
}

func TestEnsure_ScaleUpWaitsForAMajority(t *testing.T) {
	rs, d, target := startRS(t, 5, mongorstest.Options{})
	mustReady(t, ensure(t, d, target, desired(3)))
	rs.Stop(topo.Host(1))
	rs.Stop(topo.Host(2))
	res := ensure(t, d, target, desired(5))
	if res.Ready || res.Reconfigs != 0 || !strings.Contains(res.Message, "healthy") {
		t.Fatalf("reconfigured without a healthy majority: %+v", res)
	}
}

func TestEnsure_StepsDownAPrimaryThatIsBeingRemoved(t *testing.T) {
	rs, d, target := startRS(t, 5, mongorstest.Options{})
	mustReady(t, ensure(t, d, target, desired(5)))
	// The demotion step ran (members 3 and 4 priority 0), then member 4 became primary anyway.
	c := dial(t, d, target)
	ctx := context.Background()
	cfg, err := c.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	next, _ := mongors.NextConfig(cfg, topo, 3)
	if err := c.Reconfig(ctx, next); err != nil {
		t.Fatal(err)
	}
	rs.SetPrimary(topo.Host(4))
	rs.ResetCommands()

	res := ensure(t, d, target, desired(3))
	mustReady(t, res)
	if res.Reconfigs != 2 || len(commandsOn(rs, topo.Host(4), "replSetStepDown")) != 1 || rs.Primary() == topo.Host(4) {
		t.Fatalf("result %+v, primary %s", res, rs.Primary())
	}
}
