package loadgen

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"

	"littleecom.io/littleecom/internal/rabbitadmin"
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
	mgmt := rabbitadmin.Client{}
	if mu.User != nil {
		mgmt.Username = mu.User.Username()
		mgmt.Password, _ = mu.User.Password()
		mu.User = nil
	}
	mgmt.URL = mu.String()
	var b [4]byte
	_, _ = rand.Read(b[:])
	vhost := "loadgen-" + hex.EncodeToString(b[:])
	user := "guest"
	if au.User != nil {
		user = au.User.Username()
	}
	if err := mgmt.PutVHost(ctx, vhost); err != nil {
		return "", nil, fmt.Errorf("create vhost (is RabbitMQ running? hack/rabbitmq.sh start): %w", err)
	}
	drop := func() { _ = mgmt.DeleteVHost(context.WithoutCancel(ctx), vhost) }
	if err := mgmt.SetPermissions(ctx, vhost, user, rabbitadmin.All); err != nil {
		drop()
		return "", nil, err
	}
	esc := url.PathEscape(vhost)
	au.Path, au.RawPath = "/"+vhost, "/"+esc
	return au.String(), drop, nil
}
