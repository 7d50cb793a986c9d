package mongors

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// DriverDialer dials mongod with the official Go driver (mongo-driver v2).
type DriverDialer struct {
	// NetDialer, when set, opens the TCP connections instead of net.Dialer. It receives the
	// Target's host:port unchanged: this is where a port-forward (or a test's host map)
	// plugs in when pod DNS names do not resolve.
	NetDialer options.ContextDialer
	// AppName is sent in the handshake and shows in mongod's logs; default "littleecom-operator".
	AppName string
}

var _ Dialer = DriverDialer{}

// Dial connects to target.Host and checks the connection with a ping, so that an
// unreachable host or wrong credentials fail here, bounded by target.Timeout.
func (d DriverDialer) Dial(ctx context.Context, target Target) (Client, error) {
	timeout := target.timeout()
	app := d.AppName
	if app == "" {
		app = "littleecom-operator"
	}
	// Credentials go through options.Credential, never through a URI, so no driver error
	// that quotes its connection string can carry the password.
	opts := options.Client().
		SetHosts([]string{target.Host}).
		SetDirect(target.DirectConnection).
		SetAppName(app).
		SetConnectTimeout(timeout).
		SetServerSelectionTimeout(timeout).
		SetTimeout(timeout).
		SetMaxPoolSize(4).
		SetRetryWrites(false).
		SetRetryReads(false)
	if target.Username != "" {
		opts.SetAuth(options.Credential{
			AuthSource: "admin",
			Username:   target.Username,
			Password:   target.Password,
		})
	}
	if d.NetDialer != nil {
		opts.SetDialer(d.NetDialer)
	}
	mc, err := mongo.Connect(opts)
	if err != nil {
		return nil, wrap("connect", target, err)
	}
	c := &driverClient{mc: mc, target: target, admin: mc.Database("admin")}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := c.admin.RunCommand(pctx, bson.D{{Key: "ping", Value: 1}}).Err(); err != nil {
		_ = mc.Disconnect(context.WithoutCancel(ctx))
		return nil, wrap("connect", target, err)
	}
	return c, nil
}

type driverClient struct {
	mc     *mongo.Client
	target Target
	admin  *mongo.Database
}

// run runs one admin command bounded by the target's timeout and decodes the reply into out.
func (c *driverClient) run(ctx context.Context, op string, cmd bson.D, out any) error {
	return c.runFor(ctx, c.target.timeout(), op, cmd, out)
}

// runFor is run bounded by timeout (or ctx's earlier deadline).
func (c *driverClient) runFor(ctx context.Context, timeout time.Duration, op string, cmd bson.D, out any) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res := c.admin.RunCommand(ctx, cmd)
	if err := res.Err(); err != nil {
		return wrap(op, c.target, err)
	}
	if out == nil {
		return nil
	}
	if err := res.Decode(out); err != nil {
		return wrap(op, c.target, err)
	}
	return nil
}

func (c *driverClient) Status(ctx context.Context) (Status, error) {
	var raw struct {
		Set     string `bson:"set"`
		Members []struct {
			ID       int     `bson:"_id"`
			Name     string  `bson:"name"`
			Health   float64 `bson:"health"`
			StateStr string  `bson:"stateStr"`
			Self     bool    `bson:"self"`
		} `bson:"members"`
	}
	err := c.run(ctx, "replSetGetStatus", bson.D{{Key: "replSetGetStatus", Value: 1}}, &raw)
	if HasCode(err, CodeNotYetInitialized) {
		return Status{Initialized: false}, nil
	}
	if HasCode(err, CodeInvalidReplicaSetConfig) {
		return Status{Initialized: true, Removed: true}, nil
	}
	if err != nil {
		return Status{}, err
	}
	st := Status{Initialized: true, SetName: raw.Set}
	for _, m := range raw.Members {
		ms := MemberStatus{ID: m.ID, Name: m.Name, State: m.StateStr, Health: m.Health > 0, Self: m.Self}
		if ms.State == StatePrimary {
			st.Primary = m.Name
		}
		st.Members = append(st.Members, ms)
	}
	return st, nil
}

func (c *driverClient) Initiate(ctx context.Context, cfg Config) error {
	return c.run(ctx, "replSetInitiate", bson.D{{Key: "replSetInitiate", Value: cfg.forSend()}}, nil)
}

func (c *driverClient) Config(ctx context.Context) (Config, error) {
	var raw struct {
		Config Config `bson:"config"`
	}
	if err := c.run(ctx, "replSetGetConfig", bson.D{{Key: "replSetGetConfig", Value: 1}}, &raw); err != nil {
		return Config{}, err
	}
	return raw.Config, nil
}

func (c *driverClient) Reconfig(ctx context.Context, cfg Config) error {
	// The driver derives maxTimeMS from the context's deadline, which bounds how long mongod
	// waits for the current config to commit, for the quorum check and for the new config
	// to reach a majority: the longer reconfig timeout lets mongod answer first.
	return c.runFor(ctx, c.target.reconfigTimeout(), "replSetReconfig", bson.D{
		{Key: "replSetReconfig", Value: cfg.forSend()},
	}, nil)
}

func (c *driverClient) StepDown(ctx context.Context, d time.Duration) error {
	err := c.runFor(ctx, c.target.reconfigTimeout(), "replSetStepDown", bson.D{
		{Key: "replSetStepDown", Value: int64(d / time.Second)},
		{Key: "secondaryCatchUpPeriodSecs", Value: int64(min(d/2, 10*time.Second) / time.Second)},
	}, nil)
	var e *Error
	if errors.As(err, &e) && mongo.IsNetworkError(e.err) {
		return nil // mongod may close connections when it steps down
	}
	return err
}

func (c *driverClient) EnsureUser(ctx context.Context, db, user, password string, roles []Role) error {
	if roles == nil {
		roles = []Role{}
	}
	run := func(op string, cmd bson.D) error { return c.runUserCommand(ctx, db, op, cmd, password) }
	err := run("createUser", bson.D{
		{Key: "createUser", Value: user},
		{Key: keyPwd, Value: password},
		{Key: keyRoles, Value: roles},
	})
	if !HasCode(err, CodeUserAlreadyExists) {
		return err
	}
	return run("updateUser", bson.D{
		{Key: "updateUser", Value: user},
		{Key: keyPwd, Value: password},
		{Key: keyRoles, Value: roles},
	})
}

// ChangePassword implements Client.
func (c *driverClient) ChangePassword(ctx context.Context, db, user, password string) error {
	return c.runUserCommand(ctx, db, "updateUser", bson.D{
		{Key: "updateUser", Value: user},
		{Key: keyPwd, Value: password},
	}, password)
}

// runUserCommand runs a user-management command on db. These commands wait for a majority
// ({w: "majority"}); when the wait ends first, mongod has made the change on the primary and
// answers ok: 1 with a writeConcernError, returned here as an *Error with WriteConcern set.
func (c *driverClient) runUserCommand(ctx context.Context, db, op string, cmd bson.D, password string) error {
	ctx, cancel := context.WithTimeout(ctx, c.target.timeout())
	defer cancel()
	// mongod's default for these commands, with a wtimeout inside our own timeout: mongod
	// then says "written, not yet replicated" instead of our side giving up without knowing.
	cmd = append(cmd, bson.E{Key: "writeConcern", Value: bson.D{
		{Key: "w", Value: "majority"},
		{Key: "wtimeout", Value: (c.target.timeout() / 2).Milliseconds()},
	}})
	raw, err := c.mc.Database(db).RunCommand(ctx, cmd).Raw()
	if err != nil {
		if wce, ok := errors.AsType[mongo.WriteException](err); ok && wce.WriteConcernError != nil {
			e := newError(op, c.target.Host, wce.WriteConcernError.Code, false, err, password, c.target.Password)
			e.WriteConcern = true
			return e
		}
		return wrap(op, c.target, err, password)
	}
	if wce, ok := raw.Lookup("writeConcernError").DocumentOK(); ok {
		code, _ := wce.Lookup("code").AsInt64OK()
		msg, _ := wce.Lookup("errmsg").StringValueOK()
		e := newError(op, c.target.Host, int(code), false, fmt.Errorf("write concern: %s (%d)", msg, code), password, c.target.Password)
		e.WriteConcern = true
		return e
	}
	return nil
}

// keyPwd is the password field of createUser and updateUser.
const keyPwd = "pwd"

// keyRoles is the field of createUser, updateUser, createRole and updateRole that lists the
// granted (or inherited) roles.
const keyRoles = "roles"

func (c *driverClient) EnsureRole(ctx context.Context, db, role string, privileges []Privilege) error {
	if privileges == nil {
		privileges = []Privilege{}
	}
	dbc := c.mc.Database(db)
	run := func(op string, cmd bson.D) error {
		cctx, cancel := context.WithTimeout(ctx, c.target.timeout())
		defer cancel()
		if err := dbc.RunCommand(cctx, cmd).Err(); err != nil {
			return wrap(op, c.target, err)
		}
		return nil
	}
	err := run("createRole", bson.D{
		{Key: "createRole", Value: role},
		{Key: "privileges", Value: privileges},
		{Key: keyRoles, Value: bson.A{}},
	})
	if !HasCode(err, CodeRoleAlreadyExists) {
		return err
	}
	return run("updateRole", bson.D{
		{Key: "updateRole", Value: role},
		{Key: "privileges", Value: privileges},
		{Key: keyRoles, Value: bson.A{}},
	})
}

func (c *driverClient) Close(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.target.timeout())
	defer cancel()
	if err := c.mc.Disconnect(ctx); err != nil {
		return wrap("disconnect", c.target, err)
	}
	return nil
}

// wrap turns a driver error into an *Error with the server code and the password removed.
func wrap(op string, t Target, err error, secrets ...string) error {
	code := 0
	if se, ok := errors.AsType[mongo.ServerError](err); ok {
		if ce, ok := errors.AsType[mongo.CommandError](err); ok {
			code = int(ce.Code)
		} else if codes := se.ErrorCodes(); len(codes) > 0 {
			code = codes[0]
		}
	}
	timeout := mongo.IsTimeout(err) || errors.Is(err, context.DeadlineExceeded) ||
		isNetTimeout(err)
	return newError(op, t.Host, code, timeout, err, append(secrets, t.Password)...)
}

func isNetTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
