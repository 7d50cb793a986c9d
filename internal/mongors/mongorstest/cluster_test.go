package mongorstest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"littleecom.io/littleecom/internal/mongors/mongorstest"
)

// These tests pin the double's answers to MongoDB's error codes with plain driver calls, so
// that the mongors tests that rely on them test against the codes mongod returns.

// instant are the timings of tests about answers, not pace.
func instant() *mongorstest.Timings {
	t := mongorstest.InstantTimings()
	return &t
}

func host(i int) string { return fmt.Sprintf("db-%d.db.ns.svc.cluster.local:27017", i) }

func connect(t *testing.T, rs *mongorstest.Cluster, h, user, pw string) *mongo.Client {
	t.Helper()
	opts := options.Client().SetHosts([]string{h}).SetDirect(true).SetDialer(rs).
		SetTimeout(2 * time.Second).SetServerSelectionTimeout(2 * time.Second)
	if user != "" {
		opts.SetAuth(options.Credential{Username: user, Password: pw})
	}
	c, err := mongo.Connect(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c
}

func run(c *mongo.Client, db string, cmd bson.D) (bson.Raw, int) {
	res, err := c.Database(db).RunCommand(context.Background(), cmd).Raw()
	var ce mongo.CommandError
	if errors.As(err, &ce) && ce.Code != 0 { // network errors come as CommandError with code 0
		return nil, int(ce.Code)
	}
	if err != nil {
		return nil, -1
	}
	return res, 0
}

func members(n int, extra func(i int) bson.D) bson.A {
	var out bson.A
	for i := range n {
		m := bson.D{{Key: "_id", Value: i}, {Key: "host", Value: host(i)}}
		if extra != nil {
			m = append(m, extra(i)...)
		}
		out = append(out, m)
	}
	return out
}

func TestCluster_ErrorCodes(t *testing.T) {
	rs := mongorstest.Start(t, mongorstest.Options{Hosts: []string{host(0), host(1), host(2), host(3)}, Username: "root", Password: "pw", Timings: instant()})
	anon := connect(t, rs, host(0), "", "")
	if _, code := run(anon, "admin", bson.D{{Key: "replSetGetStatus", Value: 1}}); code != 13 {
		t.Errorf("unauthenticated replSetGetStatus: code %d, want 13 Unauthorized", code)
	}
	if _, code := run(anon, "admin", bson.D{{Key: "ping", Value: 1}}); code != 0 {
		t.Errorf("unauthenticated ping: code %d", code)
	}
	if _, err := connect(t, rs, host(0), "root", "wrong").Database("admin").RunCommand(context.Background(), bson.D{{Key: "ping", Value: 1}}).Raw(); err == nil {
		t.Error("wrong password accepted")
	}

	c0 := connect(t, rs, host(0), "root", "pw")
	c1 := connect(t, rs, host(1), "root", "pw")
	steps := []struct {
		name string
		c    *mongo.Client
		db   string
		cmd  bson.D
		code int
	}{
		{"status before initiate", c0, "admin", bson.D{{Key: "replSetGetStatus", Value: 1}}, 94},
		{"createUser without a primary", c0, "ecom", bson.D{{Key: "createUser", Value: "u"}, {Key: "pwd", Value: "p"}, {Key: "roles", Value: bson.A{}}}, 10107},
		{"initiate with another set name", c0, "admin", bson.D{{Key: "replSetInitiate", Value: bson.D{{Key: "_id", Value: "other"}, {Key: "members", Value: members(3, nil)}}}}, 93},
		{"initiate without this node", c0, "admin", bson.D{{Key: "replSetInitiate", Value: bson.D{{Key: "_id", Value: "rs0"}, {Key: "members", Value: bson.A{bson.D{{Key: "_id", Value: 1}, {Key: "host", Value: host(1)}}}}}}}, 93},
		{"initiate", c0, "admin", bson.D{{Key: "replSetInitiate", Value: bson.D{{Key: "_id", Value: "rs0"}, {Key: "members", Value: members(3, nil)}}}}, 0},
		{"initiate again", c0, "admin", bson.D{{Key: "replSetInitiate", Value: bson.D{{Key: "_id", Value: "rs0"}, {Key: "members", Value: members(3, nil)}}}}, 23},
		{"reconfig on a secondary", c1, "admin", bson.D{{Key: "replSetReconfig", Value: bson.D{{Key: "_id", Value: "rs0"}, {Key: "version", Value: 2}, {Key: "members", Value: members(3, nil)}}}}, 10107},
		{"reconfig with the same version", c0, "admin", bson.D{{Key: "replSetReconfig", Value: bson.D{{Key: "_id", Value: "rs0"}, {Key: "version", Value: 1}, {Key: "members", Value: members(3, nil)}}}}, 103},
		{"reconfig adding two voters", c0, "admin", bson.D{{Key: "replSetReconfig", Value: bson.D{{Key: "_id", Value: "rs0"}, {Key: "version", Value: 2}, {Key: "members", Value: append(members(3, nil), bson.D{{Key: "_id", Value: 3}, {Key: "host", Value: host(3)}}, bson.D{{Key: "_id", Value: 4}, {Key: "host", Value: host(4)}})}}}}, 103},
		{"reconfig non-voter with priority", c0, "admin", bson.D{{Key: "replSetReconfig", Value: bson.D{{Key: "_id", Value: "rs0"}, {Key: "version", Value: 2}, {Key: "members", Value: members(3, func(int) bson.D { return bson.D{{Key: "votes", Value: 0}} })}}}}, 103},
		{"reconfig with newlyAdded", c0, "admin", bson.D{{Key: "replSetReconfig", Value: bson.D{{Key: "_id", Value: "rs0"}, {Key: "version", Value: 2}, {Key: "members", Value: members(3, func(int) bson.D { return bson.D{{Key: "newlyAdded", Value: true}} })}}}}, 93},
		{"reconfig adding one voter", c0, "admin", bson.D{{Key: "replSetReconfig", Value: bson.D{{Key: "_id", Value: "rs0"}, {Key: "version", Value: 2}, {Key: "members", Value: members(4, nil)}}}}, 0},
		{"createUser", c0, "ecom", bson.D{{Key: "createUser", Value: "u"}, {Key: "pwd", Value: "p"}, {Key: "roles", Value: bson.A{}}}, 0},
		{"createUser again", c0, "ecom", bson.D{{Key: "createUser", Value: "u"}, {Key: "pwd", Value: "p"}, {Key: "roles", Value: bson.A{}}}, 51003},
		{"updateUser missing", c0, "ecom", bson.D{{Key: "updateUser", Value: "nobody"}, {Key: "pwd", Value: "p"}}, 11},
		{"unknown command", c0, "admin", bson.D{{Key: "fsync", Value: 1}}, 59},
	}
	for _, s := range steps {
		if _, code := run(s.c, s.db, s.cmd); code != s.code {
			t.Errorf("%s: code %d, want %d", s.name, code, s.code)
		}
	}
	if v := rs.Config().Lookup("version").Int32(); v != 3 {
		t.Errorf("config version %d, want 3 (the reconfig, then mongod's own that drops newlyAdded)", v)
	}
	res, code := run(c1, "admin", bson.D{{Key: "replSetGetStatus", Value: 1}})
	if code != 0 || res.Lookup("members", "0", "stateStr").StringValue() != "PRIMARY" {
		t.Errorf("status from a secondary: %v %d", res, code)
	}
}

func TestCluster_FaultsApplyOnce(t *testing.T) {
	rs := mongorstest.Start(t, mongorstest.Options{Hosts: []string{host(0)}, Timings: instant()})
	c := connect(t, rs, host(0), "", "")
	rs.FailNext("ping", 2, 2)
	for i, want := range []int{2, 2, 0} {
		if _, code := run(c, "admin", bson.D{{Key: "ping", Value: 1}}); code != want {
			t.Errorf("ping %d: code %d, want %d", i, code, want)
		}
	}
	rs.DropNext("ping", 1)
	if _, code := run(c, "admin", bson.D{{Key: "ping", Value: 1}}); code != -1 {
		t.Errorf("dropped ping: code %d, want a network error", code)
	}
	if _, code := run(c, "admin", bson.D{{Key: "ping", Value: 1}}); code != 0 {
		t.Errorf("ping after drop: code %d", code)
	}
}
