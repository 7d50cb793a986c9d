package mongorstest

import (
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// adminDB holds the users and roles that may reach every database.
const adminDB = "admin"

// role is a custom role as createRole stores it.
type role struct {
	privileges bson.RawArray
	roles      bson.RawArray
}

// builtinRoles are mongod's built-in roles that exist in every database; adminRoles exist
// only in admin. A user may be granted these without createRole.
var (
	builtinRoles = []string{"read", "readWrite", "dbAdmin", "dbOwner", "userAdmin"}
	adminRoles   = []string{"clusterAdmin", "clusterManager", "clusterMonitor", "hostManager", "backup", "restore",
		"readAnyDatabase", "readWriteAnyDatabase", "userAdminAnyDatabase", "dbAdminAnyDatabase", "root", "__system"}
)

// roleExists reports whether name@db is a built-in or a created role. Callers hold mu.
func (c *Cluster) roleExists(db, name string) bool {
	if slices.Contains(builtinRoles, name) || (db == adminDB && slices.Contains(adminRoles, name)) {
		return true
	}
	_, ok := c.roles[db+"."+name]
	return ok
}

// checkGrants fails as mongod does (RoleNotFound) when roles, as createUser, updateUser or
// createRole take them ({role, db} documents or names in db), name a role that does not
// exist. Callers hold mu.
func (c *Cluster) checkGrants(db string, roles bson.RawArray) *cmdErr {
	values, err := roles.Values()
	if err != nil {
		return fail(2, "roles must be an array")
	}
	for _, v := range values {
		name, roleDB := "", db
		if s, ok := v.StringValueOK(); ok {
			name = s
		} else if d, ok := v.DocumentOK(); ok {
			name, _ = d.Lookup("role").StringValueOK()
			roleDB, _ = d.Lookup("db").StringValueOK()
		}
		if name == "" || roleDB == "" {
			return fail(2, "role names must be strings or {role, db} documents")
		}
		if !c.roleExists(roleDB, name) {
			return fail(31, fmt.Sprintf("Could not find role: %s@%s", name, roleDB))
		}
	}
	return nil
}

// checkPrivileges refuses, as mongod does, privileges of a role outside admin that target
// another database.
func checkPrivileges(db string, privileges bson.RawArray) *cmdErr {
	values, err := privileges.Values()
	if err != nil {
		return fail(2, "privileges must be an array")
	}
	for _, v := range values {
		p, ok := v.DocumentOK()
		if !ok {
			return fail(2, "a privilege must be a document")
		}
		target, _ := p.Lookup("resource", "db").StringValueOK()
		if _, ok := p.Lookup("actions").ArrayOK(); !ok {
			return fail(2, "a privilege needs an actions array")
		}
		if db != adminDB && target != db {
			return fail(2, fmt.Sprintf("Roles on the '%s' database cannot be granted privileges that target other databases or the cluster", db))
		}
	}
	return nil
}

// roleDefinition reads privileges and roles of createRole or updateRole; required names
// whether both must be present (createRole) or either may be omitted (updateRole).
func (c *Cluster) roleDefinition(db string, cmd bson.Raw, old *role) (*role, *cmdErr) {
	r := &role{}
	if old != nil {
		*r = *old
	}
	privileges, hasPrivileges := cmd.Lookup("privileges").ArrayOK()
	roles, hasRoles := cmd.Lookup("roles").ArrayOK()
	if old == nil && (!hasPrivileges || !hasRoles) {
		return nil, fail(2, "createRole needs privileges and roles arrays")
	}
	if hasPrivileges {
		if e := checkPrivileges(db, privileges); e != nil {
			return nil, e
		}
		r.privileges = privileges
	}
	if hasRoles {
		if e := c.checkGrants(db, roles); e != nil {
			return nil, e
		}
		r.roles = roles
	}
	return r, nil
}

func (c *Cluster) createRole(host, db string, cmd bson.Raw) *cmdErr {
	if host != c.currentPrimary() {
		return fail(10107, "not primary")
	}
	name, _ := cmd.Lookup("createRole").StringValueOK()
	if name == "" {
		return fail(2, "createRole needs a role name")
	}
	if c.roleExists(db, name) {
		return fail(51002, fmt.Sprintf("Role \"%s@%s\" already exists", name, db))
	}
	r, e := c.roleDefinition(db, cmd, nil)
	if e != nil {
		return e
	}
	c.roles[db+"."+name] = r
	return nil
}

func (c *Cluster) updateRole(host, db string, cmd bson.Raw) *cmdErr {
	if host != c.currentPrimary() {
		return fail(10107, "not primary")
	}
	name, _ := cmd.Lookup("updateRole").StringValueOK()
	old, ok := c.roles[db+"."+name]
	if !ok {
		return fail(31, fmt.Sprintf("Role %s@%s not found", name, db))
	}
	r, e := c.roleDefinition(db, cmd, old)
	if e != nil {
		return e
	}
	c.roles[db+"."+name] = r
	return nil
}

// Role reports whether the custom role db.name exists and its privileges.
func (c *Cluster) Role(db, name string) (privileges bson.RawArray, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.roles[db+"."+name]
	if !ok {
		return nil, false
	}
	return r.privileges, true
}
