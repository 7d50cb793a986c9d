package mongorstest

import (
	"crypto/rand"
	"fmt"

	"github.com/xdg-go/scram"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// user is a stored user: SCRAM-SHA-256 credentials as mongod keeps them, and the password
// in clear so tests can check what was set.
type user struct {
	password string
	creds    scram.StoredCredentials
	roles    bson.RawArray
}

// saslConv is one SCRAM conversation on a connection.
type saslConv struct {
	db        string
	sc        *scram.ServerConversation
	skipEmpty bool
}

func (c *Cluster) addUser(db, name, password string, roles bson.RawArray) error {
	client, err := scram.SHA256.NewClient(name, password, "")
	if err != nil {
		return err
	}
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	creds, err := client.GetStoredCredentialsWithError(scram.KeyFactors{Salt: string(salt), Iters: 4096})
	if err != nil {
		return err
	}
	c.users[db+"."+name] = &user{password: password, creds: creds, roles: roles}
	return nil
}

func (c *Cluster) saslStart(cn *conn, cmd bson.Raw, db string) (bson.D, *cmdErr) {
	mech, _ := cmd.Lookup("mechanism").StringValueOK()
	if mech != "SCRAM-SHA-256" {
		return nil, fail(334, "Received authentication for mechanism "+mech+" which is not enabled")
	}
	_, payload, _ := cmd.Lookup("payload").BinaryOK()
	// Called while dispatch holds mu: the lookup must not lock.
	srv, err := scram.SHA256.NewServer(func(name string) (scram.StoredCredentials, error) {
		u, ok := c.users[db+"."+name]
		if !ok {
			return scram.StoredCredentials{}, fmt.Errorf("no such user")
		}
		return u.creds, nil
	})
	if err != nil {
		return nil, fail(18, "Authentication failed.")
	}
	conv := &saslConv{db: db, sc: srv.NewConversation()}
	conv.skipEmpty, _ = cmd.Lookup("options", "skipEmptyExchange").BooleanOK()
	out, err := conv.sc.Step(string(payload))
	if err != nil {
		return nil, fail(18, "Authentication failed.")
	}
	id := int32(len(cn.convs) + 1)
	cn.convs[id] = conv
	return bson.D{
		{Key: "conversationId", Value: id},
		{Key: "done", Value: false},
		{Key: "payload", Value: bson.Binary{Data: []byte(out)}},
	}, nil
}

func (c *Cluster) saslContinue(cn *conn, cmd bson.Raw) (bson.D, *cmdErr) {
	id, _ := cmd.Lookup("conversationId").AsInt64OK()
	conv, ok := cn.convs[int32(id)]
	if !ok {
		return nil, fail(18, "Authentication failed.")
	}
	reply := func(done bool, payload string) bson.D {
		return bson.D{
			{Key: "conversationId", Value: int32(id)},
			{Key: "done", Value: done},
			{Key: "payload", Value: bson.Binary{Data: []byte(payload)}},
		}
	}
	if conv.sc.Done() { // the empty round after the server's final message
		delete(cn.convs, int32(id))
		return reply(true, ""), nil
	}
	_, payload, _ := cmd.Lookup("payload").BinaryOK()
	out, err := conv.sc.Step(string(payload))
	if err != nil || !conv.sc.Valid() {
		delete(cn.convs, int32(id))
		return nil, fail(18, "Authentication failed.")
	}
	cn.user = conv.db + "." + conv.sc.Username()
	if conv.skipEmpty {
		delete(cn.convs, int32(id))
		return reply(true, out), nil
	}
	return reply(false, out), nil
}

func (c *Cluster) createUser(host, db string, cmd bson.Raw) (bson.D, *cmdErr) {
	if cerr := c.writeUser(host, db, cmd); cerr != nil {
		return nil, cerr
	}
	return c.awaitMajority(cmd), nil
}

func (c *Cluster) updateUser(host, db string, cmd bson.Raw) (bson.D, *cmdErr) {
	if cerr := c.changeUser(host, db, cmd); cerr != nil {
		return nil, cerr
	}
	return c.awaitMajority(cmd), nil
}

func (c *Cluster) writeUser(host, db string, cmd bson.Raw) *cmdErr {
	if host != c.currentPrimary() {
		return fail(10107, "not primary")
	}
	name, _ := cmd.Lookup("createUser").StringValueOK()
	pwd, _ := cmd.Lookup("pwd").StringValueOK()
	roles, ok := cmd.Lookup("roles").ArrayOK()
	if name == "" || !ok {
		return fail(2, "createUser needs a user name and roles")
	}
	if _, exists := c.users[db+"."+name]; exists {
		return fail(51003, fmt.Sprintf("User \"%s@%s\" already exists", name, db))
	}
	if e := c.checkGrants(db, roles); e != nil {
		return e
	}
	if err := c.addUser(db, name, pwd, roles); err != nil {
		return fail(2, err.Error())
	}
	return nil
}

func (c *Cluster) changeUser(host, db string, cmd bson.Raw) *cmdErr {
	if host != c.currentPrimary() {
		return fail(10107, "not primary")
	}
	name, _ := cmd.Lookup("updateUser").StringValueOK()
	u, exists := c.users[db+"."+name]
	if !exists {
		return fail(11, fmt.Sprintf("Could not find user \"%s@%s\"", name, db))
	}
	pwd, hasPwd := cmd.Lookup("pwd").StringValueOK()
	if !hasPwd {
		pwd = u.password
	}
	roles := u.roles
	if r, ok := cmd.Lookup("roles").ArrayOK(); ok {
		if e := c.checkGrants(db, r); e != nil {
			return e
		}
		roles = r
	}
	if err := c.addUser(db, name, pwd, roles); err != nil {
		return fail(2, err.Error())
	}
	return nil
}
