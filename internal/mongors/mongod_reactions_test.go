package mongors_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"littleecom.io/littleecom/internal/mongors"
	"littleecom.io/littleecom/internal/mongors/mongorstest"
)

// How Ensure reacts to what mongod 7.0 does; each test names the behaviour (the double's
// own tests pin the double to it, in package mongorstest).

// hookDialer hands out clients that run before once, just before their first Reconfig:
// something happens to the set between Ensure's reading the config and its reconfig.
type hookDialer struct {
	mongors.Dialer
	before func()
}

type hookClient struct {
	mongors.Client
	d *hookDialer
}

func (d *hookDialer) Dial(ctx context.Context, t mongors.Target) (mongors.Client, error) {
	c, err := d.Dialer.Dial(ctx, t)
	if err != nil {
		return nil, err
	}
	return hookClient{c, d}, nil
}

func (c hookClient) Reconfig(ctx context.Context, cfg mongors.Config) error {
	if f := c.d.before; f != nil {
		c.d.before = nil
		f()
	}
	return c.Client.Reconfig(ctx, cfg)
}

// ensureUntilReady calls Ensure as a reconciler would until it is Ready, at most three times.
func ensureUntilReady(t *testing.T, d mongors.Dialer, target mongors.Target, want mongors.Desired) mongors.Result {
	t.Helper()
	const n = 3
	var res mongors.Result
	for range n {
		if res = ensure(t, d, target, want); res.Ready {
			return res
		}
	}
	t.Fatalf("not ready after %d calls: %+v", n, res)
	return res
}

func TestEnsure_GrowsFromOneMember(t *testing.T) {
	// mongod: a member added to a one-member set is newlyAdded and does not vote until it
	// caught up, so the set keeps its majority while it grows.
	rs, d, target := startRS(t, 3, mongorstest.Options{})
	mustReady(t, ensure(t, d, target, desired(1)))
	ensureUntilReady(t, d, target, desired(3))
	if n := len(rs.Commands("replSetReconfig")); n != 2 {
		t.Errorf("%d reconfigs, want 2", n)
	}
}

func TestEnsure_PrimaryOnTheHighestOrdinal_ScaleToOne(t *testing.T) {
	// mongod: NodeNotElectable (104) for a reconfig that leaves its node unelectable.
	rs, d, target := startRS(t, 3, mongorstest.Options{})
	mustReady(t, ensure(t, d, target, desired(3)))
	rs.SetPrimary(topo.Host(2))
	rs.ResetCommands()
	ensureUntilReady(t, d, target, desired(1))
	for _, c := range rs.Commands("replSetReconfig") {
		if c.Host == topo.Host(2) {
			t.Errorf("reconfig on member 2, which is being removed: %s", c.Doc)
		}
	}
	if !mongors.SameMembers(config(t, rs), 1) {
		t.Errorf("config %s", rs.Config())
	}
}

func config(t *testing.T, rs *mongorstest.Cluster) mongors.Config {
	t.Helper()
	var cfg mongors.Config
	if err := bson.Unmarshal(rs.Config(), &cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestEnsure_StepDownWithoutCaughtUpSecondary_Waits(t *testing.T) {
	// mongod: replSetStepDown answers ExceededTimeLimit (262) when no electable secondary
	// caught up within secondaryCatchUpPeriodSecs.
	rs, d, target := startRS(t, 3, mongorstest.Options{})
	mustReady(t, ensure(t, d, target, desired(3)))
	rs.SetPrimary(topo.Host(2))
	rs.FailNext("replSetStepDown", 1, mongors.CodeExceededTimeLimit)
	res := ensure(t, d, target, desired(1))
	if res.Ready || res.Phase != mongors.PhaseReconfiguring || !strings.Contains(res.Message, "caught up") {
		t.Fatalf("result %+v", res)
	}
	ensureUntilReady(t, d, target, desired(1))
}

func TestEnsure_MongodsOwnReconfigBetweenReadAndReconfig_Continues(t *testing.T) {
	// mongod: the removal of newlyAdded is a reconfig of its own that bumps the version; a
	// reconfig built on the version before is NewReplicaSetConfigurationIncompatible (103).
	timings := mongorstest.InstantTimings()
	timings.NewlyAddedRemoval = 300 * time.Millisecond
	rs, dd, target := startRS(t, 5, mongorstest.Options{Timings: &timings, NewMemberState: mongors.StateStartup2})
	mustReady(t, ensure(t, dd, target, desired(3)))
	if res := ensure(t, dd, target, desired(4)); res.Reconfigs != 1 {
		t.Fatalf("adding member 3: %+v", res)
	}
	rs.SetState(topo.Host(3), mongors.StateSecondary)
	// Ensure reads version 2; mongod drops newlyAdded (version 3) before the reconfig.
	d := &hookDialer{Dialer: dd, before: func() {
		time.Sleep(timings.NewlyAddedRemoval)
		_ = rs.Primary() // mongod notices at its next heartbeat; the double when asked
	}}
	res := ensure(t, d, target, desired(5))
	if res.Ready || res.Phase != mongors.PhaseReconfiguring || !strings.Contains(res.Message, "changed meanwhile") {
		t.Fatalf("result %+v", res)
	}
	rs.SetState(topo.Host(4), mongors.StateSecondary)
	ensureUntilReady(t, d, target, desired(5))
}

func TestEnsure_InvalidConfigIsRejectedForGood(t *testing.T) {
	// mongod: every validation failure of a reconfig comes back as 103; the version did not
	// move, so it is not a stale config: Ensure reports it as PhaseRejected.
	rs, d, target := startRS(t, 5, mongorstest.Options{})
	mustReady(t, ensure(t, d, target, desired(3)))
	// Someone moved member 1 by hand to the host ordinal 3 would get.
	c := dial(t, d, target)
	cfg, err := c.Config(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Version++
	cfg.Members[1].Host = topo.Host(3)
	if err := c.Reconfig(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	res, err := mongors.Ensure(context.Background(), d, target, desired(5))
	var rejected *mongors.RejectedError
	if res.Phase != mongors.PhaseRejected || !errors.As(err, &rejected) || !mongors.HasCode(err, mongors.CodeNewReplicaSetConfigurationIncompatible) {
		t.Fatalf("result %+v, err %v", res, err)
	}
	if !strings.Contains(err.Error(), "same host") || strings.Contains(err.Error(), rootPassword) {
		t.Errorf("error %q does not say why (or shows the password)", err)
	}
	if v := rs.Config().Lookup("version").Int32(); v != int32(cfg.Version) {
		t.Errorf("version %d, want %d: nothing changed", v, cfg.Version)
	}
}

func TestEnsure_Member0RemovedFindsThePrimaryThroughItsPeers(t *testing.T) {
	// mongod: a node whose config does not contain it answers replSetGetStatus with
	// InvalidReplicaSetConfig (93), state REMOVED.
	rs, d, target := startRS(t, 3, mongorstest.Options{})
	mustReady(t, ensure(t, d, target, desired(3)))
	rs.SetPrimary(topo.Host(1))
	pt := target
	pt.Host = topo.Host(1)
	c := dial(t, d, pt)
	cfg, err := c.Config(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Version++
	cfg.Members = cfg.Members[1:]
	if err := c.Reconfig(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if st, err := dial(t, d, target).Status(context.Background()); err != nil || !st.Removed {
		t.Fatalf("member 0's status %+v, %v; want Removed", st, err)
	}
	res := ensureUntilReady(t, d, target, desired(3))
	if res.Initiated || !mongors.SameMembers(config(t, rs), 3) {
		t.Errorf("result %+v, config %s", res, rs.Config())
	}
}

func TestEnsure_FirstStartInstanceIsWaitedFor(t *testing.T) {
	// The official image's entrypoint first runs mongod without --replSet to create root:
	// replica-set commands answer NoReplicationEnabled (76).
	rs, d, target := startRS(t, 3, mongorstest.Options{})
	rs.FirstStart(topo.Host(0), true)
	res := ensure(t, d, target, desired(3))
	if res.Ready || res.Phase != mongors.PhaseWaitingForPods || !strings.Contains(res.Message, "--replSet") {
		t.Fatalf("result %+v", res)
	}
	rs.FirstStart(topo.Host(0), false)
	mustReady(t, ensure(t, d, target, desired(3)))
}

func TestEnsure_UsersRightAfterInitiateWaitForAMajority(t *testing.T) {
	// mongod: createUser waits for {w: "majority"}; with the secondaries in initial sync it
	// answers ok with a writeConcernError (WriteConcernFailed, 64, at wtimeout).
	timings := mongorstest.InstantTimings()
	timings.InitialSync = time.Hour
	rs, d, target := startRS(t, 3, mongorstest.Options{Timings: &timings})
	target.Timeout = 2 * time.Second // wtimeout is half of it
	res := ensure(t, d, target, desired(3, backendUser))
	if res.Ready || res.Phase != mongors.PhaseReconfiguring || !strings.Contains(res.Message, "majority") {
		t.Fatalf("result %+v", res)
	}
	if !rs.UserPassword("ecom", "backend", backendUser.Password) {
		t.Error("the user is not on the primary")
	}
	for i := 1; i < 3; i++ {
		rs.SetState(topo.Host(i), mongors.StateSecondary)
	}
	mustReady(t, ensure(t, d, target, desired(3, backendUser)))
}

func TestEnsure_RotatesTheRootPassword(t *testing.T) {
	// mongod's entrypoint creates root once; a new password reaches MongoDB only through
	// updateUser, logged in with the password that still works.
	rs, d, target := startRS(t, 3, mongorstest.Options{})
	mustReady(t, ensure(t, d, target, desired(3)))
	const next = "n3xt-R00t,pa=ss"
	rotated := target
	rotated.Password, rotated.PreviousPassword = next, rootPassword
	res := ensure(t, d, rotated, desired(3))
	mustReady(t, res)
	if !res.RootPasswordChanged || !rs.UserPassword("admin", "root", next) || rs.UserPassword("admin", "root", rootPassword) {
		t.Fatalf("result %+v", res)
	}
	if res = ensure(t, d, rotated, desired(3)); !res.Ready || res.RootPasswordChanged {
		t.Errorf("second call: %+v", res)
	}

	wrong := target
	wrong.Password, wrong.PreviousPassword = "wrong-1", "wrong-2"
	res, err := mongors.Ensure(context.Background(), d, wrong, desired(3))
	if res.Phase != mongors.PhaseRejected || err == nil || strings.Contains(err.Error(), "wrong-") {
		t.Errorf("neither password works: %+v, %v", res, err)
	}
}

func TestEnsure_ReconfigTimeoutOutlastsMongodsQuorumCheck(t *testing.T) {
	// mongod's quorum check waits for members that do not answer (heartbeatTimeoutSecs,
	// 10 s) and then answers NodeNotFound (74): the operator must wait longer than that to
	// hear why, not time out first. Scaled down here: 2.5 s of quorum check, 1 s of command
	// timeout, 6 s for reconfigs.
	timings := mongorstest.InstantTimings()
	timings.QuorumCheck = 2500 * time.Millisecond
	rs, dd, target := startRS(t, 4, mongorstest.Options{Timings: &timings})
	target.Timeout, target.ReconfigTimeout = time.Second, 6*time.Second
	mustReady(t, ensure(t, dd, target, desired(3)))
	d := &hookDialer{Dialer: dd, before: func() {
		rs.Stop(topo.Host(1))
		rs.Stop(topo.Host(2))
	}}
	res := ensure(t, d, target, desired(4))
	if res.Ready || res.Phase != mongors.PhaseReconfiguring || !strings.Contains(res.Message, "Quorum check failed") {
		t.Fatalf("result %+v", res)
	}
}

func TestEnsure_ScaleUpWaitsWhileTheLastMemberIsUnknown(t *testing.T) {
	// mongod: a member just added is UNKNOWN (health -1) until its first heartbeat, then
	// STARTUP2; the next member is added only once it caught up.
	timings := mongorstest.InstantTimings()
	timings.Heartbeat = time.Hour
	rs, d, target := startRS(t, 5, mongorstest.Options{Timings: &timings})
	mustReady(t, ensure(t, d, target, desired(3)))
	rs.SetState(topo.Host(1), mongors.StateSecondary) // the initial members synced long ago
	rs.SetState(topo.Host(2), mongors.StateSecondary)
	res := ensure(t, d, target, desired(5))
	if res.Ready || res.Reconfigs != 1 || !strings.Contains(res.Message, "UNKNOWN") {
		t.Fatalf("result %+v", res)
	}
	if m, _ := res.Status.Member(3); m.Health {
		t.Errorf("member 3 reported healthy while UNKNOWN: %+v", m)
	}
	rs.SetState(topo.Host(3), mongors.StateSecondary)
	rs.SetState(topo.Host(4), mongors.StateSecondary)
	ensureUntilReady(t, d, target, desired(5))
}
