// Package rabbitadmin is a small client of RabbitMQ's management HTTP API: vhosts, users,
// permissions and definitions. Tests, the load generator and the local dev stack use it to
// give each run its own vhost and to load the operator's definitions into a real broker.
package rabbitadmin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// DefaultURL is the management API of the broker hack/rabbitmq.sh starts.
const DefaultURL = "http://127.0.0.1:15672"

// Client talks to one broker's management API as one user.
type Client struct {
	URL      string // e.g. DefaultURL
	Username string
	Password string
	// Timeout bounds each call; 10 s when zero.
	Timeout time.Duration
}

// Permissions are RabbitMQ's three permission regexps.
type Permissions struct {
	Configure string `json:"configure"`
	Write     string `json:"write"`
	Read      string `json:"read"`
}

// All is every permission on every resource.
var All = Permissions{Configure: ".*", Write: ".*", Read: ".*"}

// PutVHost creates vhost (no error when it exists).
func (c Client) PutVHost(ctx context.Context, vhost string) error {
	return c.do(ctx, http.MethodPut, "/api/vhosts/"+url.PathEscape(vhost), struct{}{})
}

// DeleteVHost deletes vhost with everything in it.
func (c Client) DeleteVHost(ctx context.Context, vhost string) error {
	return c.do(ctx, http.MethodDelete, "/api/vhosts/"+url.PathEscape(vhost), nil)
}

// PutUser creates or updates a user; tags is e.g. "" or "administrator".
func (c Client) PutUser(ctx context.Context, name, password, tags string) error {
	return c.do(ctx, http.MethodPut, "/api/users/"+url.PathEscape(name),
		map[string]string{"password": password, "tags": tags})
}

// DeleteUser deletes a user.
func (c Client) DeleteUser(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/api/users/"+url.PathEscape(name), nil)
}

// SetPermissions grants user p on vhost.
func (c Client) SetPermissions(ctx context.Context, vhost, user string, p Permissions) error {
	return c.do(ctx, http.MethodPut, "/api/permissions/"+url.PathEscape(vhost)+"/"+url.PathEscape(user), p)
}

// ImportDefinitions loads the vhost-scoped part of a definitions document (exchanges,
// queues, bindings, policies) into vhost. It silently skips users, vhosts and permissions,
// which are broker-wide: use ImportBrokerDefinitions for those.
func (c Client) ImportDefinitions(ctx context.Context, vhost string, definitions json.RawMessage) error {
	return c.do(ctx, http.MethodPost, "/api/definitions/"+url.PathEscape(vhost), definitions)
}

// ImportBrokerDefinitions loads a whole definitions document (users, vhosts, permissions,
// exchanges, queues, bindings), as RabbitMQ's load_definitions does at boot.
func (c Client) ImportBrokerDefinitions(ctx context.Context, definitions json.RawMessage) error {
	return c.do(ctx, http.MethodPost, "/api/definitions", definitions)
}

func (c Client) do(ctx context.Context, method, path string, body any) error {
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(raw)
	}
	base := c.URL
	if base == "" {
		base = DefaultURL
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.SetBasicAuth(c.Username, c.Password)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("rabbitmq management API: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode >= http.StatusMultipleChoices {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("rabbitmq management API: %s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}
