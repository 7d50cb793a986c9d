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

var backendUser = mongors.User{DB: "ecom", Name: "backend", Password: "backend-pw",
	Roles: []mongors.Role{{Role: "readWrite", DB: "ecom"}}}

func ensure(t *testing.T, d mongors.Dialer, target mongors.Target, want mongors.Desired) mongors.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := mongors.Ensure(ctx, d, target, want)
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	return res
}

func mustReady(t *testing.T, res mongors.Result) {
	t.Helper()
	if !res.Ready || res.Phase != mongors.PhaseReady {
		t.Fatalf("not ready: %+v", res)
	}
}

// membersJSON is what the driver must send as members for ordinals 0..n-1 when each is new.
func membersJSON(ids ...int) string {
	var parts []string
	for _, id := range ids {
		parts = append(parts, fmt.Sprintf(`{"_id":%d,"host":"%s","priority":1.0,"votes":1}`, id, topo.Host(id)))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func TestEnsure_InitiatesFromScratch(t *testing.T) {
	rs, d, target := startRS(t, 3, mongorstest.Options{})
	res := ensure(t, d, target, desired(3, backendUser))
	mustReady(t, res)
	if !res.Initiated || res.Reconfigs != 0 || res.Status.Primary != topo.Host(0) || len(res.Status.Members) != 3 {
		t.Errorf("result %+v", res)
	}

	inits := rs.Commands("replSetInitiate")
	if len(inits) != 1 {
		t.Fatalf("%d replSetInitiate, want 1", len(inits))
	}
	if inits[0].Host != topo.Host(0) || inits[0].DB != "admin" {
		t.Errorf("replSetInitiate went to %s db %s", inits[0].Host, inits[0].DB)
	}
	want := `{"_id":"rs0","version":1,"members":` + membersJSON(0, 1, 2) + `}`
	if got := relaxed(t, inits[0].Doc.Lookup("replSetInitiate")); got != want {
		t.Errorf("replSetInitiate config\n got %s\nwant %s", got, want)
	}
	// Before initiating, the other pods were asked whether they already belong to a set.
	for _, i := range []int{1, 2} {
		if len(commandsOn(rs, topo.Host(i), "replSetGetStatus")) == 0 {
			t.Errorf("member %d was not checked before initiate", i)
		}
	}

	creates := rs.Commands("createUser")
	if len(creates) != 1 || creates[0].Host != topo.Host(0) || creates[0].DB != "ecom" {
		t.Fatalf("createUser commands %+v", creates)
	}
	for key, want := range map[string]string{
		"createUser": `"backend"`, "pwd": `"backend-pw"`, "roles": `[{"role":"readWrite","db":"ecom"}]`,
	} {
		if got := relaxed(t, creates[0].Doc.Lookup(key)); got != want {
			t.Errorf("createUser %s = %s, want %s", key, got, want)
		}
	}
	if !rs.UserPassword("ecom", "backend", "backend-pw") {
		t.Error("backend user not created with its password")
	}
}

func commandsOn(rs *mongorstest.Cluster, host string, names ...string) []mongorstest.Command {
	var out []mongorstest.Command
	for _, c := range rs.Commands(names...) {
		if c.Host == host {
			out = append(out, c)
		}
	}
	return out
}

func TestEnsure_SecondCallChangesNothing(t *testing.T) {
	rs, d, target := startRS(t, 3, mongorstest.Options{})
	mustReady(t, ensure(t, d, target, desired(3, backendUser)))
	version := rs.Config().Lookup("version").Int32()
	rs.ResetCommands()

	res := ensure(t, d, target, desired(3, backendUser))
	mustReady(t, res)
	if res.Initiated || res.Reconfigs != 0 {
		t.Errorf("result %+v", res)
	}
	if n := len(rs.Commands("replSetInitiate", "replSetReconfig")); n != 0 {
		t.Errorf("%d initiate/reconfig commands on an initialized set", n)
	}
	if got := rs.Config().Lookup("version").Int32(); got != version {
		t.Errorf("config version %d -> %d", version, got)
	}
	// A periodic look at a healthy set costs one status and one config read, no more.
	if n := len(rs.Commands("replSetGetConfig")); n != 1 {
		t.Errorf("%d replSetGetConfig commands on a set that needs no change, want 1", n)
	}
}

func TestEnsure_CrashAfterInitiate_DoesNotInitiateAgain(t *testing.T) {
	t.Run("initiated, never recorded", func(t *testing.T) {
		rs, d, target := startRS(t, 3, mongorstest.Options{})
		var members bson.A
		for i := range 3 {
			members = append(members, bson.D{{Key: "_id", Value: i}, {Key: "host", Value: topo.Host(i)}})
		}
		if err := rs.InitiateOutOfBand(topo.Host(0), bson.D{{Key: "_id", Value: "rs0"}, {Key: "members", Value: members}}); err != nil {
			t.Fatal(err)
		}
		res := ensure(t, d, target, desired(3))
		mustReady(t, res)
		if res.Initiated || len(rs.Commands("replSetInitiate")) != 0 {
			t.Errorf("re-initiated: %+v", res)
		}
	})
	t.Run("reply to replSetInitiate lost", func(t *testing.T) {
		rs, d, target := startRS(t, 3, mongorstest.Options{})
		rs.Inject(mongorstest.Fault{Command: "replSetInitiate", DropAfterRun: true})
		ctx := context.Background()
		if _, err := mongors.Ensure(ctx, d, target, desired(3)); err == nil {
			t.Fatal("Ensure succeeded although the connection dropped")
		}
		if !rs.Initialized() {
			t.Fatal("the double did not apply the initiate")
		}
		res := ensure(t, d, target, desired(3))
		mustReady(t, res)
		if n := len(rs.Commands("replSetInitiate")); n != 1 {
			t.Errorf("%d replSetInitiate, want 1", n)
		}
	})
	t.Run("members restarted, still loading their config", func(t *testing.T) {
		// mongod imitated: a restarted member answers replSetGetStatus with
		// NotYetInitialized (94) until it has loaded its stored config, and refuses
		// replSetInitiate meanwhile with AlreadyInitialized (23).
		timings := mongorstest.InstantTimings()
		timings.ConfigLoad = 300 * time.Millisecond
		rs, d, target := startRS(t, 3, mongorstest.Options{Timings: &timings})
		mustReady(t, ensure(t, d, target, desired(3)))
		for i := range 3 {
			rs.Stop(topo.Host(i))
		}
		for i := range 3 {
			rs.Restart(topo.Host(i))
		}
		res := ensure(t, d, target, desired(3))
		mustReady(t, res)
		if res.Initiated {
			t.Error("Ensure claims it initiated a set that only restarted")
		}
		if n := len(rs.Commands("replSetInitiate")); n != 2 {
			t.Errorf("%d replSetInitiate, want the first and the refused one", n)
		}
	})
}

func TestEnsure_DoesNotInitiateWhenAnotherMemberHasAConfig(t *testing.T) {
	// Pod 0 lost its volume: it reports NotYetInitialized, but members 1 and 2 run a set.
	// Initiating pod 0 would create a second replica set.
	rs, d, target := startRS(t, 3, mongorstest.Options{})
	if err := rs.InitiateOutOfBand(topo.Host(1), bson.D{{Key: "_id", Value: "rs0"}, {Key: "members", Value: bson.A{
		bson.D{{Key: "_id", Value: 1}, {Key: "host", Value: topo.Host(1)}},
		bson.D{{Key: "_id", Value: 2}, {Key: "host", Value: topo.Host(2)}},
	}}}); err != nil {
		t.Fatal(err)
	}
	rs.ResetCommands()
	res := ensure(t, d, target, desired(3))
	if res.Ready || res.Phase != mongors.PhaseWaitingForPods || !strings.Contains(res.Message, "not initiating again") {
		t.Errorf("result %+v", res)
	}
	if n := len(rs.Commands("replSetInitiate")); n != 0 {
		t.Errorf("%d replSetInitiate", n)
	}
}

func TestEnsure_WaitsForEveryPodBeforeInitiate(t *testing.T) {
	rs, d, target := startRS(t, 3, mongorstest.Options{})
	target.Timeout = 300 * time.Millisecond // a stopped pod costs one timeout
	rs.Stop(topo.Host(2))
	res := ensure(t, d, target, desired(3))
	if res.Ready || res.Phase != mongors.PhaseWaitingForPods || res.Initiated {
		t.Errorf("result %+v", res)
	}
	if len(rs.Commands("replSetInitiate")) != 0 {
		t.Error("initiated while a pod was down")
	}
	rs.Restart(topo.Host(2))
	mustReady(t, ensure(t, d, target, desired(3)))
}

func TestEnsure_WaitForPrimaryIsBounded(t *testing.T) {
	rs, d, target := startRS(t, 3, mongorstest.Options{NoElection: true})
	want := desired(3, backendUser)
	want.PrimaryWait = 200 * time.Millisecond
	start := time.Now()
	res := ensure(t, d, target, want)
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Ensure took %v waiting for a primary", elapsed)
	}
	if res.Ready || res.Phase != mongors.PhaseWaitingForPrimary || !res.Initiated {
		t.Errorf("result %+v", res)
	}
	if len(rs.Commands("createUser")) != 0 {
		t.Error("created users without a primary")
	}

	rs.SetPrimary(topo.Host(0))
	res = ensure(t, d, target, want)
	mustReady(t, res)
	if res.Initiated || len(rs.Commands("replSetInitiate")) != 1 {
		t.Errorf("initiated again: %+v", res)
	}
}

func TestEnsure_WaitsThroughElectionDelay(t *testing.T) {
	timings := mongorstest.InstantTimings()
	timings.Election = 100 * time.Millisecond
	_, d, target := startRS(t, 3, mongorstest.Options{Timings: &timings})
	mustReady(t, ensure(t, d, target, desired(3)))
}
