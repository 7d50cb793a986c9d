package mongorstest_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/onsi/gomega"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"littleecom.io/littleecom/internal/mongors/mongorstest"
)

// Each test here pins one mongod 7.0 behaviour the double imitates, named after the server
// code it follows (src/mongo/db/repl/, src/mongo/base/error_codes.yml), so that the mongors
// tests built on the double test against what mongod does.

func start(t *testing.T, n int, timings mongorstest.Timings) *mongorstest.Cluster {
	t.Helper()
	hosts := make([]string, n)
	for i := range hosts {
		hosts[i] = host(i)
	}
	return mongorstest.Start(t, mongorstest.Options{Hosts: hosts, Username: "root", Password: "pw", Timings: &timings})
}

func initiate(t *testing.T, c *mongo.Client, n int) {
	t.Helper()
	if _, code := run(c, "admin", bson.D{{Key: "replSetInitiate", Value: bson.D{{Key: "_id", Value: "rs0"}, {Key: "members", Value: members(n, nil)}}}}); code != 0 {
		t.Fatalf("replSetInitiate: code %d", code)
	}
}

func reconfigTo(version int, ms bson.A) bson.D {
	return bson.D{{Key: "replSetReconfig", Value: bson.D{{Key: "_id", Value: "rs0"}, {Key: "version", Value: version}, {Key: "members", Value: ms}}}}
}

func version(rs *mongorstest.Cluster) int32 { return rs.Config().Lookup("version").Int32() }

// withMaxTime adds maxTimeMS to cmd. (A driver timeout would send it too, but the driver
// then gives up at the same moment mongod answers: the tests would see a network error.)
func withMaxTime(cmd bson.D, d time.Duration) bson.D {
	return append(cmd, bson.E{Key: "maxTimeMS", Value: d.Milliseconds()})
}

// connectWithin is connect with the driver's timeout d, or none when d is 0.
func connectWithin(t *testing.T, rs *mongorstest.Cluster, h string, d time.Duration) *mongo.Client {
	t.Helper()
	opts := options.Client().SetHosts([]string{h}).SetDirect(true).SetDialer(rs).
		SetAuth(options.Credential{Username: "root", Password: "pw"})
	if d > 0 {
		opts.SetTimeout(d)
	}
	c, err := mongo.Connect(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c
}

// ReplicationCoordinatorImpl::_doReplSetReconfig: a non-force reconfig must leave the node
// that runs it electable (findSelfInConfigIfElectable), else NodeNotElectable (104).
func TestMongod_ReconfigThatMakesThePrimaryUnelectable_IsNodeNotElectable(t *testing.T) {
	rs := start(t, 3, mongorstest.InstantTimings())
	c0 := connect(t, rs, host(0), "root", "pw")
	initiate(t, c0, 3)
	prio0 := members(3, func(i int) bson.D {
		if i == 0 {
			return bson.D{{Key: "priority", Value: 0}}
		}
		return nil
	})
	if _, code := run(c0, "admin", reconfigTo(2, prio0)); code != 104 {
		t.Errorf("demoting the primary: code %d, want 104 NodeNotElectable", code)
	}
	if rs.Primary() != host(0) || version(rs) != 1 {
		t.Errorf("the refused reconfig changed something: primary %s, version %d", rs.Primary(), version(rs))
	}
}

// replSetStepDown (ReplicationCoordinatorImpl::stepDown): waits secondaryCatchUpPeriodSecs
// for an electable secondary that caught up, then ExceededTimeLimit (262); MaxTimeMSExpired
// (50) when maxTimeMS runs out first; a stepped-down node is not electable for the period.
func TestMongod_StepDownWithoutCaughtUpSecondary(t *testing.T) {
	timings := mongorstest.InstantTimings()
	rs := start(t, 2, timings)
	c0 := connect(t, rs, host(0), "root", "pw")
	initiate(t, c0, 2)
	rs.SetState(host(1), "STARTUP2")
	stepDown := bson.D{{Key: "replSetStepDown", Value: 4}, {Key: "secondaryCatchUpPeriodSecs", Value: 1}}
	if _, code := run(c0, "admin", stepDown); code != 262 {
		t.Errorf("no caught-up secondary: code %d, want 262 ExceededTimeLimit", code)
	}
	if _, code := run(c0, "admin", withMaxTime(stepDown, 300*time.Millisecond)); code != 50 {
		t.Errorf("maxTimeMS shorter than the catch-up period: code %d, want 50 MaxTimeMSExpired", code)
	}
	rs.SetState(host(1), "SECONDARY")
	if _, code := run(c0, "admin", stepDown); code != 0 || rs.Primary() != host(1) {
		t.Errorf("step-down with a caught-up secondary: code %d, primary %s", code, rs.Primary())
	}
}

// newlyAdded (ReplicationCoordinatorImpl's automatic reconfigs, 4.4+): a voting member new to
// the set (by _id) is stored with newlyAdded, replSetGetConfig hides the field, and once the
// member is a SECONDARY mongod removes it with a reconfig of its own (a version bump) that a
// user's reconfig meets as ConfigurationInProgress (109) while it runs, or as
// NewReplicaSetConfigurationIncompatible (103) when built on the version before it.
func TestMongod_NewlyAdded(t *testing.T) {
	timings := mongorstest.InstantTimings()
	timings.ConfigCommit = 300 * time.Millisecond
	rs := start(t, 4, timings)
	c0 := connect(t, rs, host(0), "root", "pw")
	initiate(t, c0, 3)
	rs.SetState(host(3), "STARTUP2")
	time.Sleep(timings.ConfigCommit) // the initial config commits
	if _, code := run(c0, "admin", reconfigTo(2, members(4, nil))); code != 0 {
		t.Fatalf("adding member 3: code %d", code)
	}
	stored, _ := rs.Config().Lookup("members").Array().Values()
	if added, _ := stored[3].Document().Lookup("newlyAdded").BooleanOK(); !added {
		t.Errorf("member 3 stored without newlyAdded: %s", stored[3])
	}
	got, code := run(c0, "admin", bson.D{{Key: "replSetGetConfig", Value: 1}})
	if code != 0 {
		t.Fatalf("replSetGetConfig: code %d", code)
	}
	if _, err := got.LookupErr("config", "members", "3", "newlyAdded"); err == nil {
		t.Error("replSetGetConfig shows newlyAdded")
	}

	rs.SetState(host(3), "SECONDARY")
	if v := version(rs); v != 3 {
		t.Fatalf("mongod's own reconfig: version %d, want 3", v)
	}
	if _, code := run(c0, "admin", reconfigTo(4, members(4, nil))); code != 109 {
		t.Errorf("reconfig while mongod's own runs: code %d, want 109 ConfigurationInProgress", code)
	}
	time.Sleep(timings.ConfigCommit)
	if _, code := run(c0, "admin", reconfigTo(3, members(4, nil))); code != 103 {
		t.Errorf("reconfig built on version 2: code %d, want 103", code)
	}
	if _, code := run(c0, "admin", reconfigTo(4, members(4, nil))); code != 0 {
		t.Errorf("reconfig on version 3: code %d", code)
	}
}

// Member states (MemberState, TopologyCoordinator::prepareStatusResponse): a member that just
// joined is UNKNOWN with health -1 until its first heartbeat, then STARTUP2 during initial
// sync, then SECONDARY.
func TestMongod_NewMemberGoesUnknownStartup2Secondary(t *testing.T) {
	timings := mongorstest.InstantTimings()
	timings.Heartbeat, timings.InitialSync = 400*time.Millisecond, 400*time.Millisecond
	rs := start(t, 3, timings)
	c0 := connect(t, rs, host(0), "root", "pw")
	initiate(t, c0, 3)
	// Every state member 1 shows, in order, sampled every 10 ms until it is SECONDARY.
	var seen []string
	gomega.NewWithT(t).Eventually(func() string {
		res, code := run(c0, "admin", bson.D{{Key: "replSetGetStatus", Value: 1}})
		if code != 0 {
			t.Fatalf("replSetGetStatus: code %d", code)
		}
		m := res.Lookup("members", "1").Document()
		state := m.Lookup("stateStr").StringValue()
		if state == "UNKNOWN" && m.Lookup("health").Double() != -1 {
			t.Errorf("UNKNOWN member with health %v, want -1", m.Lookup("health"))
		}
		if len(seen) == 0 || seen[len(seen)-1] != state {
			seen = append(seen, state)
		}
		return state
	}).WithTimeout(5 * time.Second).WithPolling(10 * time.Millisecond).Should(gomega.Equal("SECONDARY"))
	if len(seen) != 3 || seen[0] != "UNKNOWN" || seen[1] != "STARTUP2" || seen[2] != "SECONDARY" {
		t.Errorf("member 1 went through %v, want UNKNOWN, STARTUP2, SECONDARY", seen)
	}
}

// Config commitment (4.4+ safe reconfig): a reconfig installs its config and waits for it to
// reach a majority, answering MaxTimeMSExpired (50) when maxTimeMS runs out first (the config
// stays installed); the next reconfig waits for the current config to commit and answers
// CurrentConfigNotCommittedYet (308) when it does not in time; a reconfig while another
// runs is ConfigurationInProgress (109).
func TestMongod_ConfigCommitment(t *testing.T) {
	timings := mongorstest.InstantTimings()
	timings.ConfigCommit = 1500 * time.Millisecond
	rs := start(t, 5, timings)
	c0 := connect(t, rs, host(0), "root", "pw")
	initiate(t, c0, 3)
	time.Sleep(timings.ConfigCommit)

	if _, code := run(c0, "admin", withMaxTime(reconfigTo(2, members(4, nil)), 300*time.Millisecond)); code != 50 {
		t.Errorf("reconfig whose config does not propagate in maxTimeMS: code %d, want 50", code)
	}
	if v := version(rs); v != 2 {
		t.Errorf("version %d after the timed-out reconfig, want 2 (installed)", v)
	}
	if _, code := run(c0, "admin", withMaxTime(reconfigTo(3, members(5, nil)), 300*time.Millisecond)); code != 308 {
		t.Errorf("reconfig before version 2 committed: code %d, want 308", code)
	}

	time.Sleep(timings.ConfigCommit)
	var wg sync.WaitGroup
	wg.Go(func() {
		run(c0, "admin", reconfigTo(3, members(5, nil))) // waits ConfigCommit for propagation
	})
	time.Sleep(400 * time.Millisecond)
	if _, code := run(connect(t, rs, host(0), "root", "pw"), "admin", reconfigTo(3, members(5, nil))); code != 109 {
		t.Errorf("reconfig while another runs: code %d, want 109", code)
	}
	wg.Wait()
}

// Quorum check (QuorumChecker, checkQuorumForReconfig): a majority of the new config's
// voters must answer; members that do not are waited for up to heartbeatTimeoutSecs, then
// NodeNotFound (74).
func TestMongod_ReconfigQuorumCheck(t *testing.T) {
	timings := mongorstest.InstantTimings()
	timings.QuorumCheck = 200 * time.Millisecond
	rs := start(t, 4, timings)
	c0 := connect(t, rs, host(0), "root", "pw")
	initiate(t, c0, 3)
	rs.Stop(host(1))
	rs.Stop(host(2))
	// Member 3 is newlyAdded: not a voter yet. One of three voters answers.
	if _, code := run(c0, "admin", reconfigTo(2, members(4, nil))); code != 74 {
		t.Errorf("reconfig with 1 of 3 voters answering: code %d, want 74 NodeNotFound", code)
	}
}

// Codes of replSetGetStatus, replSetInitiate and replSetReconfig for nodes and configs that
// are not what they should be.
func TestMongod_ConfigCodes(t *testing.T) {
	timings := mongorstest.InstantTimings()
	rs := start(t, 4, timings)
	c0 := connect(t, rs, host(0), "root", "pw")
	c3 := connect(t, rs, host(3), "root", "pw")

	// replSetInitiate (processReplSetInitiate): version 1 only; the initiating node must be
	// electable; both refused as InvalidReplicaSetConfig (93).
	v2 := bson.D{{Key: "replSetInitiate", Value: bson.D{{Key: "_id", Value: "rs0"}, {Key: "version", Value: 2}, {Key: "members", Value: members(3, nil)}}}}
	if _, code := run(c0, "admin", v2); code != 93 {
		t.Errorf("initiate with version 2: code %d, want 93", code)
	}
	unelectable := bson.D{{Key: "replSetInitiate", Value: bson.D{{Key: "_id", Value: "rs0"}, {Key: "members", Value: members(3, func(i int) bson.D {
		return bson.D{{Key: "priority", Value: 0}}
	})}}}}
	if _, code := run(c0, "admin", unelectable); code != 93 {
		t.Errorf("initiate on an unelectable node: code %d, want 93", code)
	}
	initiate(t, c0, 3)

	// replSetGetStatus: a node that never had a config is NotYetInitialized (94).
	if _, code := run(c3, "admin", bson.D{{Key: "replSetGetStatus", Value: 1}}); code != 94 {
		t.Errorf("status of a node outside the set: code %d, want 94", code)
	}
	// replSetReconfig: a set name other than --replSet is InvalidReplicaSetConfig (93);
	// validation failures (ReplSetConfig::validate, validateConfigForReconfig) come back
	// wrapped in NewReplicaSetConfigurationIncompatible (103).
	other := bson.D{{Key: "replSetReconfig", Value: bson.D{{Key: "_id", Value: "other"}, {Key: "version", Value: 2}, {Key: "members", Value: members(3, nil)}}}}
	if _, code := run(c0, "admin", other); code != 93 {
		t.Errorf("reconfig with another set name: code %d, want 93", code)
	}
	dupHost := members(3, nil)
	dupHost[2] = bson.D{{Key: "_id", Value: 2}, {Key: "host", Value: host(1)}}
	if _, code := run(c0, "admin", reconfigTo(2, dupHost)); code != 103 {
		t.Errorf("reconfig with a duplicate host: code %d, want 103", code)
	}
	// The single-node-change rule compares voters by _id: member 2 moving to another host
	// keeps the voting set.
	moved := members(3, nil)
	moved[2] = bson.D{{Key: "_id", Value: 2}, {Key: "host", Value: host(3)}}
	if _, code := run(c0, "admin", reconfigTo(2, moved)); code != 0 {
		t.Errorf("reconfig moving member 2 to another host: code %d, want 0", code)
	}
	// A member removed from the set answers InvalidReplicaSetConfig (93) and is REMOVED.
	if _, code := run(c0, "admin", reconfigTo(3, members(2, nil))); code != 0 {
		t.Fatalf("removing member 2: code %d", code)
	}
	if _, code := run(c3, "admin", bson.D{{Key: "replSetGetStatus", Value: 1}}); code != 93 {
		t.Errorf("status of a removed member: code %d, want 93", code)
	}
}

// Restart and first start: a restarted node answers NotYetInitialized (94) while it loads its
// stored config and refuses replSetInitiate meanwhile (AlreadyInitialized, 23); the image's
// first-start mongod runs without --replSet and answers NoReplicationEnabled (76).
func TestMongod_RestartAndFirstStart(t *testing.T) {
	timings := mongorstest.InstantTimings()
	timings.ConfigLoad = time.Hour
	rs := start(t, 2, timings)
	rs.FirstStart(host(1), true)
	c1 := connect(t, rs, host(1), "root", "pw")
	if _, code := run(c1, "admin", bson.D{{Key: "replSetGetStatus", Value: 1}}); code != 76 {
		t.Errorf("status at first start: code %d, want 76", code)
	}
	rs.FirstStart(host(1), false)
	c0 := connect(t, rs, host(0), "root", "pw")
	initiate(t, c0, 2)
	rs.Stop(host(0))
	rs.Restart(host(0))
	c0 = connect(t, rs, host(0), "root", "pw")
	if _, code := run(c0, "admin", bson.D{{Key: "replSetGetStatus", Value: 1}}); code != 94 {
		t.Errorf("status while loading the config: code %d, want 94", code)
	}
	if _, code := run(c0, "admin", bson.D{{Key: "replSetInitiate", Value: bson.D{{Key: "_id", Value: "rs0"}, {Key: "members", Value: members(2, nil)}}}}); code != 23 {
		t.Errorf("initiate while loading the config: code %d, want 23", code)
	}
}

// Elections (electionTimeoutMillis 10 s + up to 15 %): by default a multi-member set has no
// primary right after replSetInitiate.
func TestMongod_DefaultElectionTakesSeconds(t *testing.T) {
	if e := mongorstest.RealisticTimings().Election; e < 10*time.Second {
		t.Errorf("default election delay %s, mongod's is 10-12 s", e)
	}
	rs := mongorstest.Start(t, mongorstest.Options{Hosts: []string{host(0), host(1), host(2)}, Username: "root", Password: "pw"})
	initiate(t, connect(t, rs, host(0), "root", "pw"), 3)
	if p := rs.Primary(); p != "" {
		t.Errorf("primary %s right after initiate", p)
	}
}

// User management (createUser/updateUser use {w: "majority"}): right after initiate the
// secondaries are in initial sync, and the command answers ok with a writeConcernError; an
// existing user is UserAlreadyExists (51003); on a secondary NotWritablePrimary (10107).
func TestMongod_UserCommandsWaitForMajority(t *testing.T) {
	timings := mongorstest.InstantTimings()
	timings.InitialSync = time.Hour
	rs := start(t, 3, timings)
	c0 := connectWithin(t, rs, host(0), 3*time.Second)
	initiate(t, c0, 3)
	create := bson.D{{Key: "createUser", Value: "u"}, {Key: "pwd", Value: "p"}, {Key: "roles", Value: bson.A{}},
		{Key: "writeConcern", Value: bson.D{{Key: "w", Value: "majority"}, {Key: "wtimeout", Value: 100}}}}
	res, err := c0.Database("ecom").RunCommand(context.Background(), create).Raw()
	if err == nil {
		if _, ok := res.Lookup("writeConcernError").DocumentOK(); !ok {
			t.Errorf("createUser before the members synced: %s, want a writeConcernError", res)
		}
	} else if we, ok := err.(mongo.WriteException); !ok || we.WriteConcernError == nil || we.WriteConcernError.Code != 64 {
		t.Errorf("createUser before the members synced: %v, want a write concern error 64", err)
	}
	if _, ok := rs.User("ecom", "u"); !ok {
		t.Error("the user was not written on the primary")
	}
	if _, code := run(c0, "ecom", create); code != 51003 {
		t.Errorf("createUser again: code %d, want 51003", code)
	}
	c1 := connect(t, rs, host(1), "root", "pw")
	if _, code := run(c1, "ecom", bson.D{{Key: "updateUser", Value: "u"}, {Key: "pwd", Value: "q"}}); code != 10107 {
		t.Errorf("updateUser on a secondary: code %d, want 10107", code)
	}
}
