package mongors_test

import (
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"littleecom.io/littleecom/internal/mongors"
	"littleecom.io/littleecom/internal/mongors/mongorstest"
)

// The driver code in this package (mongo-driver v2 with SCRAM-SHA-256 auth, direct
// connections, timeouts) runs for real in these tests, against mongorstest: a wire-protocol
// double of a replica set that records the exact command documents it receives.
//
// What these tests cannot prove, because the double is not mongod, is listed in package
// mongorstest's comment (elections and catch-up are decided by the double, validation covers
// the rules mongors relies on, no data or replication, no keyfile authentication between
// members, no DNS inside a cluster). startRS runs the double at InstantTimings unless a test
// sets mongod's pace itself: these tests are about order and answers, not speed.

const rootPassword = "s3cr3t-R00t,pa=ss" // commas and '=' exercise SCRAM's name/value escaping

var topo = mongors.Topology{Name: "shop", Namespace: "prod", ReplicaSet: "rs0"}

func hosts(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = topo.Host(i)
	}
	return out
}

// startRS starts a double with n pods (members or not) and returns a dialer and root target.
func startRS(t *testing.T, n int, opts mongorstest.Options) (*mongorstest.Cluster, mongors.Dialer, mongors.Target) {
	t.Helper()
	opts.Hosts = hosts(n)
	opts.Username, opts.Password = "root", rootPassword
	if opts.Timings == nil {
		// These tests are about order, not pace: mongod's timings only where a test says so.
		instant := mongorstest.InstantTimings()
		opts.Timings = &instant
	}
	rs := mongorstest.Start(t, opts)
	target := mongors.Target{
		Host: topo.Host(0), Username: "root", Password: rootPassword,
		DirectConnection: true, Timeout: 2 * time.Second,
	}
	return rs, mongors.DriverDialer{NetDialer: rs}, target
}

func desired(members int, users ...mongors.User) mongors.Desired {
	return mongors.Desired{
		Topology: topo, Members: members, Users: users,
		PrimaryWait: time.Second, PollInterval: 10 * time.Millisecond,
	}
}

// relaxed renders a BSON value as relaxed extended JSON, to compare documents exactly and
// readably (key order, values and number types that JSON shows).
func relaxed(t *testing.T, v bson.RawValue) string {
	t.Helper()
	doc := bson.D{{Key: "v", Value: v}}
	b, err := bson.MarshalExtJSON(doc, false, false)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.TrimPrefix(string(b), `{"v":`)
	return strings.TrimSuffix(s, "}")
}
