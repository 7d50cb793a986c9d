package testinfra_test

import (
	"context"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.mongodb.org/mongo-driver/v2/bson"

	"littleecom.io/littleecom/services/internal/mongox"
	"littleecom.io/littleecom/services/internal/testinfra"
)

func TestStartFerretDB_ServesMongoDBWireProtocol(t *testing.T) {
	uri := testinfra.StartFerretDB(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client, err := mongox.Connect(ctx, mongox.Config{URI: uri, ConnectTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	coll := client.Database("t").Collection("c")
	if _, err := coll.InsertOne(ctx, bson.M{"k": 1}); err != nil {
		t.Fatal(err)
	}
	if n, err := coll.CountDocuments(ctx, bson.M{}); err != nil || n != 1 {
		t.Fatalf("count = %d, %v", n, err)
	}
	if err := mongox.Ping(client)(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestAMQPVHost_IsolatedVHost(t *testing.T) {
	url := testinfra.AMQPVHost(t)
	conn, err := amqp.DialConfig(url, amqp.Config{Dial: amqp.DefaultDial(5 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }() // the vhost is dropped at cleanup; a close error changes nothing
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare("q", false, true, false, false, nil); err != nil {
		t.Fatal(err)
	}
}
