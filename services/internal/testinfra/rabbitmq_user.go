package testinfra

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// Permissions are RabbitMQ's three permission regexps.
type Permissions struct {
	Configure, Write, Read string
}

// AMQPUser creates a user on the local RabbitMQ with perms on the vhost of vhostURL (from
// AMQPVHost) and returns vhostURL with that user's credentials; the user is deleted on
// t.Cleanup. It lets a test run a service as the least-privilege user the operator creates.
func AMQPUser(t testing.TB, vhostURL string, perms Permissions) string {
	t.Helper()
	u, err := url.Parse(vhostURL)
	if err != nil {
		t.Fatalf("vhost url: %v", err)
	}
	admin, adminPass := u.User.Username(), ""
	if p, ok := u.User.Password(); ok {
		adminPass = p
	}
	vhost := strings.TrimPrefix(u.Path, "/")
	var b [6]byte
	_, _ = rand.Read(b[:])
	name, pass := "user-"+hex.EncodeToString(b[:]), hex.EncodeToString(b[:])+"-pw"

	api := os.Getenv(EnvTestRabbitMQAPI)
	if api == "" {
		api = "http://127.0.0.1:15672"
	}
	call := func(method, path string, body any) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var rd io.Reader
		if body != nil {
			raw, _ := json.Marshal(body)
			rd = strings.NewReader(string(raw))
		}
		req, err := http.NewRequestWithContext(ctx, method, api+path, rd)
		if err != nil {
			return err
		}
		req.SetBasicAuth(admin, adminPass)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer func() { _ = resp.Body.Close() }()
		if resp.StatusCode >= 300 {
			msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, msg)
		}
		return nil
	}
	if err := call(http.MethodPut, "/api/users/"+name, map[string]string{"password": pass, "tags": ""}); err != nil {
		t.Fatalf("create user: %v", err)
	}
	t.Cleanup(func() { _ = call(http.MethodDelete, "/api/users/"+name, nil) })
	perm := map[string]string{"configure": perms.Configure, "write": perms.Write, "read": perms.Read}
	if err := call(http.MethodPut, "/api/permissions/"+url.PathEscape(vhost)+"/"+name, perm); err != nil {
		t.Fatalf("grant permissions: %v", err)
	}
	u.User = url.UserPassword(name, pass)
	return u.String()
}
