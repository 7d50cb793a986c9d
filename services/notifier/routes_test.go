package notifier_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/mongox"
	"littleecom.io/littleecom/services/notifier"
)

func TestRoutes_ProbesAndMetrics(t *testing.T) {
	r := newRig(t)
	cfg := r.config()
	n := r.start(cfg)
	srv := httptest.NewServer(notifier.Routes(n.Notifier, r.metrics, mongox.Ping(r.db.Client())))
	defer srv.Close()
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	if code, _ := get(contract.PathHealthz); code != http.StatusOK {
		t.Errorf("healthz = %d", code)
	}
	eventually(t, 10*time.Second, "readyz 200", func() bool { code, _ := get(contract.PathReadyz); return code == http.StatusOK })

	r.publishEvent(contract.RoutingKeyItemAdded, contract.ItemEvent{Email: "ann@example.test", Item: "lamp", Price: 1, EventID: "ev-r"})
	r.publish(contract.RoutingKeyItemAdded, []byte("poison"))
	r.waitMail(1, 10*time.Second)
	eventually(t, 5*time.Second, "metrics", func() bool {
		_, body := get(contract.PathMetrics)
		return strings.Contains(body, `littleecom_emails_sent_total{service="notifier"} 1`) &&
			strings.Contains(body, `littleecom_events_consumed_total{event="ecom.item.add",service="notifier"} 1`) &&
			strings.Contains(body, `littleecom_events_failed_total{event="ecom.item.add",service="notifier"} 1`)
	})

	// Without its RabbitMQ connection the notifier is not ready.
	n.stop(t)
	code, body := get(contract.PathReadyz)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "rabbitmq") {
		t.Errorf("readyz after stop = %d %s", code, body)
	}
}
