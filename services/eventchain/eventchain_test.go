// Package eventchain_test runs the backend and the notifier together, as the shop runs
// them, to test what neither can alone: the way of an event from a request to an e-mail.
package eventchain_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"littleecom.io/littleecom/services/internal/testinfra"
)

// An item added while RabbitMQ is unreachable from the backend is added all the same, and
// its e-mail reaches the seller once RabbitMQ is back, exactly once. Real parts throughout:
// FerretDB, RabbitMQ (reached by the backend through a proxy that stands for the outage),
// the backend and the notifier as their mains run them, and an SMTP server.
func TestItemAddedWhileBrokerDown_MailedAfterItReturns(t *testing.T) {
	vhost := testinfra.AMQPVHost(t)
	u, _ := url.Parse(vhost)
	proxy := testinfra.NewProxy(t, u.Host) // not started: the broker is down for the backend
	viaProxy := *u
	viaProxy.Host = proxy.Addr
	shop := startChainShop(t, chainOptions{
		vhost: vhost, backendAMQP: viaProxy.String(), recordAfter: 100 * time.Millisecond,
		log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	signer, sink := shop.signer, shop.sink

	tok, _, err := signer.Sign("ann@shop.example", "sub-ann")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, shop.api+"/item", strings.NewReader(`{"name":"brass lamp","price":12}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /item while the broker is down = %d, want 201", resp.StatusCode)
	}
	time.Sleep(500 * time.Millisecond)
	if c := sink.Count(); c != 0 {
		t.Fatalf("%d e-mails while the backend could not reach the broker", c)
	}

	proxy.Start()
	wctx, wcancel := context.WithTimeout(shop.ctx, 20*time.Second)
	defer wcancel()
	got, err := sink.WaitFor(wctx, 1)
	if err != nil {
		t.Fatalf("no e-mail after the broker came back: %v", err)
	}
	if got[0].To[0] != "ann@shop.example" || !strings.Contains(got[0].Subject, "brass lamp") {
		t.Fatalf("e-mail = %+v, want the seller's notice of the brass lamp", got[0])
	}
	time.Sleep(time.Second) // a second e-mail would come within this
	if c := sink.Count(); c != 1 {
		t.Fatalf("%d e-mails for one event, want 1", c)
	}
}
