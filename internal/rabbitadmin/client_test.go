package rabbitadmin_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"

	"littleecom.io/littleecom/internal/rabbitadmin"
)

// These tests use the real broker hack/rabbitmq.sh runs on 127.0.0.1 (make test starts it).
func admin() rabbitadmin.Client {
	return rabbitadmin.Client{Username: "guest", Password: "guest"}
}

func TestVHostUserAndPermissions(t *testing.T) {
	ctx := context.Background()
	c := admin()
	vhost, user := "rabbitadmin-test-"+strings.ToLower(t.Name()), "rabbitadmin-test-user"
	if err := c.PutVHost(ctx, vhost); err != nil {
		t.Fatalf("RabbitMQ not running? hack/rabbitmq.sh start: %v", err)
	}
	t.Cleanup(func() { _ = c.DeleteVHost(ctx, vhost) })
	if err := c.PutUser(ctx, user, "pw-123", ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.DeleteUser(ctx, user) })
	if err := c.SetPermissions(ctx, vhost, user, rabbitadmin.Permissions{Configure: "^$", Write: ".*", Read: ".*"}); err != nil {
		t.Fatal(err)
	}
	conn, err := amqp.Dial(fmt.Sprintf("amqp://%s:pw-123@127.0.0.1:5672/%s", user, url.PathEscape(vhost)))
	if err != nil {
		t.Fatalf("the new user cannot log in: %v", err)
	}
	defer func() { _ = conn.Close() }()
	ch, _ := conn.Channel()
	if err := ch.ExchangeDeclare("x", "topic", true, false, false, false, nil); err == nil {
		t.Error(`configure "^$" allowed a declare`)
	}
}

func TestImportDefinitions(t *testing.T) {
	ctx := context.Background()
	c := admin()
	vhost := "rabbitadmin-test-defs"
	if err := c.PutVHost(ctx, vhost); err != nil {
		t.Fatalf("RabbitMQ not running? hack/rabbitmq.sh start: %v", err)
	}
	t.Cleanup(func() { _ = c.DeleteVHost(ctx, vhost) })
	defs := `{"exchanges":[{"name":"defs-x","vhost":"` + vhost + `","type":"topic","durable":true,"auto_delete":false,"internal":false,"arguments":{}}]}`
	if err := c.ImportDefinitions(ctx, vhost, []byte(defs)); err != nil {
		t.Fatal(err)
	}
	conn, err := amqp.Dial("amqp://guest:guest@127.0.0.1:5672/" + url.PathEscape(vhost))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	ch, _ := conn.Channel()
	if err := ch.ExchangeDeclarePassive("defs-x", "topic", true, false, false, false, nil); err != nil {
		t.Errorf("imported exchange missing: %v", err)
	}
}

func TestErrorsNameTheCall(t *testing.T) {
	c := rabbitadmin.Client{Username: "guest", Password: "wrong"}
	err := c.PutVHost(context.Background(), "never")
	if err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("err = %v, want a 401 that does not echo the password", err)
	}
}
