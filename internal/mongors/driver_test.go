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

func dial(t *testing.T, d mongors.Dialer, target mongors.Target) mongors.Client {
	t.Helper()
	c, err := d.Dial(context.Background(), target)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func TestDriver_AuthenticatesWithSCRAMAgainstAdmin(t *testing.T) {
	rs, d, target := startRS(t, 1, mongorstest.Options{})
	c := dial(t, d, target)
	st, err := c.Status(context.Background())
	if err != nil || st.Initialized {
		t.Fatalf("Status before initiate = %+v, %v; want not initialized", st, err)
	}
	// The driver starts SCRAM speculatively inside the handshake, then sends saslContinue.
	spec := false
	for _, cmd := range rs.Commands("isMaster") {
		if sa, ok := cmd.Doc.Lookup("speculativeAuthenticate").DocumentOK(); ok {
			spec = sa.Lookup("mechanism").StringValue() == "SCRAM-SHA-256" && sa.Lookup("db").StringValue() == "admin"
		}
	}
	if !spec || len(rs.Commands("saslContinue")) == 0 {
		t.Fatal("no SCRAM-SHA-256 conversation against admin")
	}
	// The double refuses unauthenticated commands, so replSetGetStatus answering proves the
	// SCRAM conversation succeeded.
	if len(rs.Commands("replSetGetStatus")) != 1 {
		t.Fatal("replSetGetStatus not sent")
	}
}

func TestDriver_PasswordNeverInErrors(t *testing.T) {
	rs, d, target := startRS(t, 3, mongorstest.Options{})
	wrong := target
	wrong.Password = "Wr0ng-" + rootPassword
	check := func(what string, err error, secrets ...string) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s: no error", what)
		}
		for _, s := range secrets {
			if strings.Contains(err.Error(), s) {
				t.Errorf("%s: error contains a password: %v", what, err)
			}
		}
	}

	_, err := d.Dial(context.Background(), wrong)
	check("dial with a wrong password", err, wrong.Password, rootPassword)
	if !mongors.HasCode(err, mongors.CodeAuthenticationFailed) || !strings.Contains(err.Error(), topo.Host(0)) {
		t.Errorf("auth failure should carry code 18 and the host: %v", err)
	}

	_, err = mongors.Ensure(context.Background(), d, wrong, desired(3))
	check("Ensure with a wrong password", err, wrong.Password, rootPassword)

	// A server message that echoes the secrets (mongod does not, a proxy might) is redacted.
	c := dial(t, d, target)
	rs.Inject(mongorstest.Fault{Command: "createUser", Code: 2, Message: "bad pwd backend-pw for root " + rootPassword})
	err = c.EnsureUser(context.Background(), "ecom", "backend", "backend-pw", nil)
	check("createUser failure", err, "backend-pw", rootPassword)
	if !strings.Contains(err.Error(), "createUser") {
		t.Errorf("error lacks context: %v", err)
	}
}

func TestDriver_EnsureUserIsIdempotent(t *testing.T) {
	rs, d, target := startRS(t, 1, mongorstest.Options{})
	mustReady(t, ensure(t, d, target, desired(1)))
	c := dial(t, d, target)
	roles := []mongors.Role{{Role: "readWrite", DB: "ecom-auth"}}
	ctx := context.Background()
	for range 2 {
		if err := c.EnsureUser(ctx, "ecom-auth", "auth", "pw-1", roles); err != nil {
			t.Fatalf("EnsureUser: %v", err)
		}
	}
	if err := c.EnsureUser(ctx, "ecom-auth", "auth", "pw-2", roles); err != nil {
		t.Fatalf("EnsureUser with a new password: %v", err)
	}
	if !rs.UserPassword("ecom-auth", "auth", "pw-2") {
		t.Error("password not updated")
	}
	var names []string
	for _, cmd := range rs.Commands("createUser", "updateUser") {
		names = append(names, cmd.Name)
		if cmd.DB != "ecom-auth" {
			t.Errorf("%s on db %s", cmd.Name, cmd.DB)
		}
	}
	if got := strings.Join(names, ","); got != "createUser,createUser,updateUser,createUser,updateUser" {
		t.Errorf("commands %s", got)
	}
	upd := rs.Commands("updateUser")[1]
	if got := relaxed(t, upd.Doc.Lookup("roles")); got != `[{"role":"readWrite","db":"ecom-auth"}]` {
		t.Errorf("updateUser roles %s", got)
	}
	if r, ok := rs.User("ecom-auth", "auth"); !ok || !strings.Contains(r.String(), "ecom-auth") {
		t.Errorf("stored roles %v", r)
	}
}

func TestDriver_EnsureRoleIsIdempotentAndGrantable(t *testing.T) {
	rs, d, target := startRS(t, 1, mongorstest.Options{})
	mustReady(t, ensure(t, d, target, desired(1)))
	c := dial(t, d, target)
	ctx := context.Background()
	grant := []mongors.Role{{Role: "readWrite", DB: "ecom"}, {Role: "deletionsReader", DB: "admin"}}

	// As mongod: a user cannot be granted a role that does not exist yet.
	if err := c.EnsureUser(ctx, "admin", "backend", "pw", grant); !mongors.HasCode(err, mongors.CodeRoleNotFound) {
		t.Fatalf("EnsureUser with an unknown role = %v, want RoleNotFound", err)
	}
	find := []mongors.Privilege{{Resource: mongors.Resource{DB: "ecom-auth", Collection: "account_deletions"}, Actions: []string{"find"}}}
	for range 2 {
		if err := c.EnsureRole(ctx, "admin", "deletionsReader", find); err != nil {
			t.Fatalf("EnsureRole: %v", err)
		}
	}
	if err := c.EnsureUser(ctx, "admin", "backend", "pw", grant); err != nil {
		t.Fatalf("EnsureUser with the role: %v", err)
	}
	var names []string
	for _, cmd := range rs.Commands("createRole", "updateRole") {
		names = append(names, cmd.Name)
	}
	if got := strings.Join(names, ","); got != "createRole,createRole,updateRole" {
		t.Errorf("commands %s", got)
	}
	p, ok := rs.Role("admin", "deletionsReader")
	if got := relaxed(t, bson.RawValue{Type: bson.TypeArray, Value: p}); !ok ||
		got != `[{"resource":{"db":"ecom-auth","collection":"account_deletions"},"actions":["find"]}]` {
		t.Errorf("stored privileges %s", got)
	}

	// A role outside admin may not reach into another database, as mongod says.
	if err := c.EnsureRole(ctx, "ecom", "reader", find); !mongors.HasCode(err, 2) {
		t.Errorf("a role in ecom with privileges on ecom-auth = %v, want BadValue", err)
	}
}

func TestDriver_TimeoutsAreBounded(t *testing.T) {
	const bound = 3 * time.Second // Timeout is 300ms; leave room for a loaded machine
	t.Run("command hangs", func(t *testing.T) {
		rs, d, target := startRS(t, 1, mongorstest.Options{})
		target.Timeout = 300 * time.Millisecond
		c := dial(t, d, target)
		rs.HangNext("replSetGetStatus", 1)
		start := time.Now()
		_, err := c.Status(context.Background())
		if err == nil || time.Since(start) > bound {
			t.Fatalf("Status on a hung server: %v after %v", err, time.Since(start))
		}
		var e *mongors.Error
		if !errors.As(err, &e) || !e.Timeout {
			t.Errorf("want a timeout *Error, got %#v", err)
		}
	})
	t.Run("handshake hangs", func(t *testing.T) {
		rs, d, target := startRS(t, 1, mongorstest.Options{})
		target.Timeout = 300 * time.Millisecond
		rs.Inject(mongorstest.Fault{Command: "isMaster", Hang: true, Times: 1000})
		start := time.Now()
		_, err := d.Dial(context.Background(), target)
		if err == nil || time.Since(start) > bound {
			t.Fatalf("Dial during a hung handshake: %v after %v", err, time.Since(start))
		}
	})
	t.Run("Ensure against a hung primary", func(t *testing.T) {
		rs, d, target := startRS(t, 3, mongorstest.Options{})
		mustReady(t, ensure(t, d, target, desired(3)))
		target.Timeout = 300 * time.Millisecond
		rs.HangNext("replSetGetConfig", 1)
		start := time.Now()
		res, err := mongors.Ensure(context.Background(), d, target, desired(5))
		if time.Since(start) > bound || res.Ready {
			t.Fatalf("Ensure: %+v, %v after %v", res, err, time.Since(start))
		}
	})
}

func TestDriver_UnresolvableHostSaysSo(t *testing.T) {
	// Outside the cluster, pod DNS names do not resolve: the error must say which host.
	_, d, target := startRS(t, 1, mongorstest.Options{})
	target.Host = "shop-mongodb-0.elsewhere.svc.cluster.local:27017"
	target.Timeout = 300 * time.Millisecond
	_, err := d.Dial(context.Background(), target)
	if err == nil || !strings.Contains(err.Error(), target.Host) || !strings.Contains(err.Error(), "no such host") {
		t.Fatalf("Dial to an unknown host: %v", err)
	}
}
