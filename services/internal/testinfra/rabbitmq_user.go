package testinfra

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"littleecom.io/littleecom/internal/rabbitadmin"
)

// Permissions are RabbitMQ's three permission regexps.
type Permissions = rabbitadmin.Permissions

// AMQPUser creates a user on the local RabbitMQ with perms on the vhost of vhostURL (from
// AMQPVHost) and returns vhostURL with that user's credentials; the user is deleted on
// t.Cleanup. It lets a test run a service as the least-privilege user the operator creates.
func AMQPUser(t testing.TB, vhostURL string, perms Permissions) string {
	t.Helper()
	u, err := url.Parse(vhostURL)
	if err != nil {
		t.Fatalf("vhost url: %v", err)
	}
	adminPass, _ := u.User.Password()
	mgmt := management(u.User.Username(), adminPass)
	vhost := strings.TrimPrefix(u.Path, "/")
	id := randomSuffix()
	name, pass := "user-"+id, id+"-pw"

	ctx := context.Background()
	if err := mgmt.PutUser(ctx, name, pass, ""); err != nil {
		t.Fatalf("create user: %v", err)
	}
	t.Cleanup(func() { _ = mgmt.DeleteUser(ctx, name) })
	if err := mgmt.SetPermissions(ctx, vhost, name, perms); err != nil {
		t.Fatalf("grant permissions: %v", err)
	}
	u.User = url.UserPassword(name, pass)
	return u.String()
}
