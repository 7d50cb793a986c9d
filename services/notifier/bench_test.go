package notifier_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/notifier"
)

// BenchmarkNotifierEndToEnd publishes b.N events (each with its own event_id and
// recipients) to a running notifier and stops the clock when the SMTP sink has accepted every
// e-mail they call for, then checks that each event produced exactly its e-mails, once.
// item_added sends one e-mail per event, item_bought two (buyer and seller). Run it with a
// fixed count:
//
//	go test ./services/notifier -run '^$' -bench NotifierEndToEnd -benchtime 5000x
//
// NOTIFIER_PREFETCH and NOTIFIER_WORKERS (the contract's env names) override the defaults.
func BenchmarkNotifierEndToEnd(b *testing.B) {
	b.Run("item_added", func(b *testing.B) {
		benchEndToEnd(b, contract.RoutingKeyItemAdded, 1, func(i int) contract.ItemEvent {
			return contract.ItemEvent{
				Email: fmt.Sprintf("seller%d@example.test", i), Item: fmt.Sprintf("item %d", i),
				Price: float64(i%500) + 0.99, EventID: fmt.Sprintf("bench-add-%d", i),
			}
		})
	})
	b.Run("item_bought", func(b *testing.B) {
		benchEndToEnd(b, contract.RoutingKeyItemBought, 2, func(i int) contract.ItemEvent {
			return contract.ItemEvent{
				Email: fmt.Sprintf("buyer%d@example.test", i), Seller: fmt.Sprintf("seller%d@example.test", i),
				Item: fmt.Sprintf("item %d", i), Price: float64(i%500) + 0.99, EventID: fmt.Sprintf("bench-buy-%d", i),
			}
		})
	})
}

func benchEndToEnd(b *testing.B, key string, perEvent int, mk func(int) contract.ItemEvent) {
	r := newRig(b)
	cfg := r.config()
	cfg.Prefetch, cfg.Workers = notifier.DefaultPrefetch, notifier.DefaultWorkers
	if env, err := notifier.ConfigFromEnv(); err == nil {
		cfg.Prefetch, cfg.Workers = env.Prefetch, env.Workers
	}
	n := r.start(cfg)
	eventually(b, 10*time.Second, "the notifier to connect", func() bool { return n.Ready(context.Background()) == nil })

	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i], _ = json.Marshal(mk(i))
	}
	want := b.N * perEvent

	b.ResetTimer()
	start := time.Now()
	pubErr := make(chan error, 1)
	go func() { pubErr <- r.publishPipelined(key, bodies, 256) }()
	r.waitMail(want, 5*time.Minute)
	elapsed := time.Since(start)
	b.StopTimer()
	if err := <-pubErr; err != nil {
		b.Fatal(err)
	}

	b.ReportMetric(float64(want)/elapsed.Seconds(), "emails/s")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(0, "ns/op") // per-op time of a pipeline says little; the rates are the figures
	if b.N > 1 {
		b.Logf("%d events -> %d e-mails in %s (%.0f e-mails/s) at prefetch %d, workers %d",
			b.N, want, elapsed.Round(time.Millisecond), float64(want)/elapsed.Seconds(), cfg.Prefetch, cfg.Workers)
	}

	// Exactly the e-mails due, once each, also after the notifier settled everything.
	eventually(b, 30*time.Second, "every event acked", func() bool { return r.consumed(key) == b.N })
	got := byRecipient(r.sink.Messages())
	if len(got) != want || r.sink.Count() != want {
		b.Fatalf("%d distinct recipients, %d e-mails for %d events (want %d)", len(got), r.sink.Count(), b.N, want)
	}
}

// publishPipelined publishes bodies with up to window unconfirmed at a time (a confirm per
// message, waited for in order), as a real publisher with confirms would.
func (r *rig) publishPipelined(key string, bodies [][]byte, window int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	pending := make([]*amqp.DeferredConfirmation, 0, window)
	wait := func(dc *amqp.DeferredConfirmation) error {
		if ok, err := dc.WaitContext(ctx); err != nil || !ok {
			return fmt.Errorf("publish not confirmed: %v %v", ok, err)
		}
		return nil
	}
	for _, body := range bodies {
		if len(pending) == window {
			if err := wait(pending[0]); err != nil {
				return err
			}
			pending = pending[1:]
		}
		dc, err := r.pub.PublishWithDeferredConfirmWithContext(ctx, contract.Exchange, key, false, false, amqp.Publishing{
			ContentType: "application/json", DeliveryMode: amqp.Persistent, Body: body,
		})
		if err != nil {
			return err
		}
		pending = append(pending, dc)
	}
	for _, dc := range pending {
		if err := wait(dc); err != nil {
			return err
		}
	}
	return nil
}
