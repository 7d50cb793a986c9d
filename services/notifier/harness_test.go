package notifier_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	amqp "github.com/rabbitmq/amqp091-go"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/internal/mailsink"
	"littleecom.io/littleecom/services/internal/amqpx"
	"littleecom.io/littleecom/services/internal/config"
	"littleecom.io/littleecom/services/internal/metrics"
	"littleecom.io/littleecom/services/internal/mongox"
	"littleecom.io/littleecom/services/internal/testinfra"
	"littleecom.io/littleecom/services/internal/topology"
	"littleecom.io/littleecom/services/notifier"
)

// Short delays so that retry tests take a second, not minutes. Each test declares them in
// its own vhost.
var testDelays = []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}

// rig is one test's real world: a RabbitMQ vhost, an embedded FerretDB, an SMTP sink and a
// publisher.
type rig struct {
	t       testing.TB
	url     string // with credentials, as testinfra gives it
	dbURI   string
	sink    *mailsink.Sink
	db      *mongo.Database
	conn    *amqp.Connection
	pub     *amqp.Channel
	metrics *metrics.Metrics
}

func newRig(t testing.TB) *rig {
	t.Helper()
	r := &rig{t: t, url: testinfra.AMQPVHost(t), metrics: metrics.New("notifier")}
	var err error
	if r.sink, err = mailsink.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.sink.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r.dbURI = testinfra.StartFerretDB(t)
	client, err := mongox.Connect(ctx, mongox.Config{URI: r.dbURI, MaxPoolSize: 32})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	r.db = client.Database(contract.DatabaseNotifier)

	if r.conn, err = amqp.Dial(r.url); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.conn.Close() })
	if r.pub, err = r.conn.Channel(); err != nil {
		t.Fatal(err)
	}
	if err := topology.DeclareWith(r.pub, topology.Options{RetryDelays: testDelays}); err != nil {
		t.Fatal(err)
	}
	if err := r.pub.Confirm(false); err != nil {
		t.Fatal(err)
	}
	return r
}

// config is a notifier configuration for this rig: the URL's credentials moved to their
// own settings, as in production.
func (r *rig) config() notifier.Config {
	u, _ := url.Parse(r.url)
	pass, _ := u.User.Password()
	user := u.User.Username()
	u.User = nil
	return notifier.Config{
		AMQP: amqpx.Config{URL: u.String(), Username: user, Password: config.Secret(pass),
			ReconnectMin: 50 * time.Millisecond, ReconnectMax: 200 * time.Millisecond},
		Prefetch:    16,
		Workers:     8,
		MaxAttempts: 3,
		RetryDelays: testDelays,
		ClaimLease:  time.Second,
		SMTP: notifier.SMTPConfig{
			Host:        r.sink.Host(),
			Port:        r.sink.Port(),
			From:        "LittleEcom <no-reply@littleecom.test>",
			StartTLS:    contract.SMTPStartTLSIfAvailable,
			DialTimeout: 2 * time.Second,
			SendTimeout: 5 * time.Second,
		},
	}
}

// running is a notifier started by start.
type running struct {
	*notifier.Notifier
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returned, with its error in err
	err    error
}

// stop cancels the notifier and waits for Run to return.
func (n *running) stop(t testing.TB) {
	t.Helper()
	n.cancel()
	select {
	case <-n.done:
		if n.err != nil {
			t.Errorf("Run: %v", n.err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("notifier did not stop within 15s")
	}
}

func (r *rig) start(cfg notifier.Config, setup ...func(*notifier.Notifier)) *running {
	r.t.Helper()
	n, err := notifier.New(cfg, r.db, r.metrics, testLogger())
	if err != nil {
		r.t.Fatal(err)
	}
	for _, f := range setup {
		f(n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	run := &running{Notifier: n, cancel: cancel, done: make(chan struct{})}
	go func() {
		run.err = n.Run(ctx)
		close(run.done)
	}()
	r.t.Cleanup(func() {
		cancel()
		select {
		case <-run.done:
		case <-time.After(15 * time.Second):
		}
	})
	return run
}

// publish sends body to the exchange with key, persistent, and waits for the confirm.
func (r *rig) publish(key string, body []byte) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	dc, err := r.pub.PublishWithDeferredConfirmWithContext(ctx, contract.Exchange, key, false, false, amqp.Publishing{
		ContentType: "application/json", DeliveryMode: amqp.Persistent, Body: body,
	})
	if err != nil {
		r.t.Fatal(err)
	}
	if ok, err := dc.WaitContext(ctx); err != nil || !ok {
		r.t.Fatalf("publish not confirmed: %v %v", ok, err)
	}
}

func (r *rig) publishEvent(key string, ev contract.ItemEvent) {
	r.t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		r.t.Fatal(err)
	}
	r.publish(key, b)
}

// waitMail waits for n mails in the sink.
func (r *rig) waitMail(n int, within time.Duration) []mailsink.Message {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	got, err := r.sink.WaitFor(ctx, n)
	if err != nil {
		r.t.Fatal(err)
	}
	return got
}

// consumed is the events_consumed_total of the routing key.
func (r *rig) consumed(key string) int {
	var m dto.Metric
	if err := r.metrics.EventsConsumed.WithLabelValues(key).Write(&m); err != nil {
		r.t.Fatal(err)
	}
	return int(m.GetCounter().GetValue())
}

// counter is the value of a counter such as emails_sent_total.
func (r *rig) counter(c prometheus.Counter) int {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		r.t.Fatal(err)
	}
	return int(m.GetCounter().GetValue())
}

// eventually polls cond until it holds or within passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// deadLetters takes every message now in the DLQ.
func (r *rig) deadLetters() []amqp.Delivery {
	r.t.Helper()
	ch, err := r.conn.Channel()
	if err != nil {
		r.t.Fatal(err)
	}
	defer func() { _ = ch.Close() }()
	var out []amqp.Delivery
	for {
		d, ok, err := ch.Get(contract.QueueDeadLetter, true)
		if err != nil {
			r.t.Fatal(err)
		}
		if !ok {
			return out
		}
		out = append(out, d)
	}
}

// queueDepth is the number of ready messages in queue.
func (r *rig) queueDepth(queue string) int {
	r.t.Helper()
	ch, err := r.conn.Channel()
	if err != nil {
		r.t.Fatal(err)
	}
	defer func() { _ = ch.Close() }()
	q, err := ch.QueueDeclarePassive(queue, true, false, false, false, topology.QueueArgs(queue))
	if err != nil {
		r.t.Fatal(err)
	}
	return q.Messages
}

func testLogger() *slog.Logger {
	if os.Getenv("NOTIFIER_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// byRecipient indexes mails by their single recipient.
func byRecipient(msgs []mailsink.Message) map[string][]mailsink.Message {
	out := map[string][]mailsink.Message{}
	for _, m := range msgs {
		out[strings.Join(m.To, ",")] = append(out[strings.Join(m.To, ",")], m)
	}
	return out
}
