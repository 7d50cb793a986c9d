package loadgen

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// createVhost makes a fresh vhost on the local RabbitMQ, so the backend's events do not pile
// up in anyone's queues, and returns its AMQP URL and a function deleting it.
func createVhost(ctx context.Context, amqpURL, api string) (string, func(), error) {
	au, err := url.Parse(amqpURL)
	if err != nil {
		return "", nil, err
	}
	mu, err := url.Parse(api)
	if err != nil {
		return "", nil, err
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	vhost := "loadgen-" + hex.EncodeToString(b[:])
	user := "guest"
	if au.User != nil {
		user = au.User.Username()
	}
	call := func(method, path, body string) error {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		u := *mu
		u.User = nil
		req, err := http.NewRequestWithContext(ctx, method, u.String()+path, strings.NewReader(body))
		if err != nil {
			return err
		}
		if mu.User != nil {
			p, _ := mu.User.Password()
			req.SetBasicAuth(mu.User.Username(), p)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer func() { _ = resp.Body.Close() }()
		if resp.StatusCode >= 300 {
			msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			return fmt.Errorf("%s %s: %s %s", method, path, resp.Status, msg)
		}
		return nil
	}
	esc := url.PathEscape(vhost)
	if err := call(http.MethodPut, "/api/vhosts/"+esc, "{}"); err != nil {
		return "", nil, fmt.Errorf("create vhost (is RabbitMQ running? hack/rabbitmq.sh start): %w", err)
	}
	drop := func() { _ = call(http.MethodDelete, "/api/vhosts/"+esc, "") }
	if err := call(http.MethodPut, "/api/permissions/"+esc+"/"+url.PathEscape(user),
		`{"configure":".*","write":".*","read":".*"}`); err != nil {
		drop()
		return "", nil, err
	}
	au.Path, au.RawPath = "/"+vhost, "/"+esc
	return au.String(), drop, nil
}
