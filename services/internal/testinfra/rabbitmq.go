package testinfra

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"littleecom.io/littleecom/internal/rabbitadmin"
)

// EnvTestAMQPURL overrides the broker the tests use (default amqp://guest:guest@127.0.0.1:5672/).
const EnvTestAMQPURL = "LITTLEECOM_TEST_AMQP_URL"

// EnvTestRabbitMQAPI overrides the management API (default rabbitadmin.DefaultURL).
const EnvTestRabbitMQAPI = "LITTLEECOM_TEST_RABBITMQ_API"

// management is the test broker's management API as user (an empty URL is
// rabbitadmin.DefaultURL).
func management(user, pass string) rabbitadmin.Client {
	return rabbitadmin.Client{URL: os.Getenv(EnvTestRabbitMQAPI), Username: user, Password: pass}
}

// randomSuffix is 12 random hex digits, for names no other test run uses.
func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

const notRunning = "RabbitMQ is not running: run hack/rabbitmq.sh start (make test does this)"

// AMQPVHost creates a fresh vhost on the local RabbitMQ, grants the test user every
// permission on it and returns an AMQP URL for it (credentials included: it is a test
// broker). The vhost, with its exchanges and queues, is deleted on t.Cleanup, so tests never
// see each other's messages.
func AMQPVHost(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvTestAMQPURL)
	if base == "" {
		base = "amqp://guest:guest@127.0.0.1:5672/"
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s=%q: %v", EnvTestAMQPURL, base, err)
	}
	if c, err := net.DialTimeout("tcp", u.Host, 2*time.Second); err != nil {
		t.Fatalf("%s (%v)", notRunning, err)
	} else {
		_ = c.Close()
	}
	user, pass := "guest", "guest"
	if u.User != nil {
		user = u.User.Username()
		pass, _ = u.User.Password()
	}
	vhost := "test-" + strings.ToLower(sanitize(t.Name())) + "-" + randomSuffix()
	mgmt := management(user, pass)
	ctx := context.Background()
	esc := url.PathEscape(vhost)
	if err := mgmt.PutVHost(ctx, vhost); err != nil {
		// Without the management plugin, the CLI does the same (as root, next to the broker).
		if cliErr := ctlVHost(vhost, user); cliErr != nil {
			t.Fatalf("%s (management API: %v; rabbitmqctl: %v)", notRunning, err, cliErr)
		}
		t.Cleanup(func() {
			if out, err := rabbitmqctl("delete_vhost", vhost); err != nil {
				t.Logf("delete vhost %s: %v: %s", vhost, err, out)
			}
		})
	} else {
		t.Cleanup(func() {
			if err := mgmt.DeleteVHost(ctx, vhost); err != nil {
				t.Logf("delete vhost %s: %v", vhost, err)
			}
		})
		if err := mgmt.SetPermissions(ctx, vhost, user, rabbitadmin.All); err != nil {
			t.Fatalf("grant %s on vhost %s: %v", user, vhost, err)
		}
	}
	u.Path = "/" + vhost
	u.RawPath = "/" + esc
	return u.String()
}

func ctlVHost(vhost, user string) error {
	if out, err := rabbitmqctl("add_vhost", vhost); err != nil {
		return fmt.Errorf("add_vhost: %w: %s", err, out)
	}
	if out, err := rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*"); err != nil {
		return fmt.Errorf("set_permissions: %w: %s", err, out)
	}
	return nil
}

func rabbitmqctl(args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, "rabbitmqctl", append([]string{"-q"}, args...)...).CombinedOutput()
}

// sanitize keeps vhost names readable in the management UI and free of '/'.
func sanitize(name string) string {
	var sb strings.Builder
	for _, c := range name {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
			sb.WriteRune(c)
		default:
			sb.WriteByte('_')
		}
		if sb.Len() >= 48 {
			break
		}
	}
	return sb.String()
}
