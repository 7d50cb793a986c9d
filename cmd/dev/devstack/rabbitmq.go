package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"time"

	"littleecom.io/littleecom/internal/rabbitadmin"
)

// broker is the local RabbitMQ and the dev vhost the operator's definitions go to.
type broker struct {
	amqpAddr string             // host:port
	admin    rabbitadmin.Client // the management API, as the local broker's administrator (guest by default)
	vhost    string
	users    []string // as imported, for cleanup
}

// prefix renames the operator's users: users are broker-wide, and this broker is shared
// with make test and other stacks, each of which has its own passwords for them.
func (b *broker) prefix() string { return b.vhost + "-" }

// errRabbitMQDown says how to get a broker.
var errRabbitMQDown = errors.New("RabbitMQ does not answer: run hack/rabbitmq.sh start (make dev and make test do; it installs Debian's rabbitmq-server when absent)")

// check fails fast when the broker is not there.
func (b *broker) check(ctx context.Context) error {
	d := net.Dialer{Timeout: 2 * time.Second}
	c, err := d.DialContext(ctx, "tcp", b.amqpAddr)
	if err != nil {
		return fmt.Errorf("%w (%s: %v)", errRabbitMQDown, b.amqpAddr, err)
	}
	return c.Close()
}

// importDefinitions imports the operator's definitions.json into the dev vhost: the same
// users (renamed with the prefix), password hashes, permissions, exchanges, queues and
// bindings, so the services log in as the operator made them, with least privilege.
func (b *broker) importDefinitions(ctx context.Context, defs []byte) error {
	rewritten, users, err := rewriteDefinitions(defs, b.vhost, b.prefix())
	if err != nil {
		return err
	}
	b.users = users
	// Broker-wide: the per-vhost import skips users and permissions, which are what the
	// services log in with.
	err = b.admin.ImportBrokerDefinitions(ctx, rewritten)
	if _, ok := errors.AsType[*net.OpError](err); ok {
		// No management plugin: the CLI imports the same file (as root, next to the broker).
		return b.ctl(ctx, rewritten)
	}
	return err
}

// rewriteDefinitions moves every vhost-scoped entry to vhost and renames users with prefix.
func rewriteDefinitions(defs []byte, vhost, prefix string) ([]byte, []string, error) {
	var d map[string]any
	if err := json.Unmarshal(defs, &d); err != nil {
		return nil, nil, fmt.Errorf("definitions.json: %w", err)
	}
	var users []string
	for key, v := range d {
		list, ok := v.([]any)
		if !ok {
			continue
		}
		for _, item := range list {
			obj, ok := item.(map[string]any)
			if !ok {
				continue
			}
			if _, ok := obj["vhost"]; ok {
				obj["vhost"] = vhost
			}
			switch key {
			case "users":
				name := prefix + fmt.Sprint(obj["name"])
				obj["name"] = name
				users = append(users, name)
			case "permissions", "topic_permissions":
				obj["user"] = prefix + fmt.Sprint(obj["user"])
			case "vhosts":
				obj["name"] = vhost
			}
		}
	}
	out, err := json.Marshal(d)
	return out, users, err
}

// cleanup deletes the vhost (its queues and messages) and the imported users.
func (b *broker) cleanup(ctx context.Context) error {
	errs := make([]error, 0, 1+len(b.users))
	errs = append(errs, b.admin.DeleteVHost(ctx, b.vhost))
	for _, u := range b.users {
		errs = append(errs, b.admin.DeleteUser(ctx, u))
	}
	return errors.Join(errs...)
}

func (b *broker) ctl(ctx context.Context, defs []byte) error {
	f, err := os.CreateTemp("", "littleecom-definitions-*.json")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(f.Name()) }()
	if _, err := f.Write(defs); err != nil {
		return err
	}
	_ = f.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "rabbitmqctl", "-q", "import_definitions", f.Name()).CombinedOutput()
	if err != nil {
		return fmt.Errorf("rabbitmqctl import_definitions: %w: %s", err, bytes.TrimSpace(out))
	}
	return nil
}
