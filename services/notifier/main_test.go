package notifier_test

import (
	"context"
	"net/url"
	"strconv"
	"testing"
	"time"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/notifier"
)

// Main, configured only by the contract's env vars, delivers and stops cleanly when its
// context ends (what SIGTERM does in cmd/notifier).
func TestMain_FromEnvDeliversAndStops(t *testing.T) {
	r := newRig(t)
	setMainEnv(t, r)
	t.Setenv(contract.EnvSMTPHost, r.sink.Host())
	t.Setenv(contract.EnvSMTPPort, itoa(r.sink.Port()))
	t.Setenv(contract.EnvSMTPFrom, "no-reply@littleecom.test")
	t.Setenv(contract.EnvManagementAddr, "127.0.0.1:0")
	t.Setenv(contract.EnvLogLevel, "error")

	cancel, done := startMain()

	r.publishEvent(contract.RoutingKeyItemAdded, contract.ItemEvent{Email: "ann@example.test", Item: "lamp", Price: 1, EventID: "ev-main"})
	r.waitMail(1, 15*time.Second)
	stopMain(t, cancel, done)
}

func itoa(n int) string { return strconv.Itoa(n) }

// With SMTP_HOST set but empty (the operator's spec without a relay) the notifier must not
// consume: events wait in their queue rather than failing into the dead-letter queue.
func TestMain_WithoutRelayLeavesEventsQueued(t *testing.T) {
	r := newRig(t)
	setMainEnv(t, r)
	t.Setenv(contract.EnvSMTPHost, "")
	t.Setenv(contract.EnvManagementAddr, "127.0.0.1:0")
	t.Setenv(contract.EnvLogLevel, "error")

	cancel, done := startMain()

	r.publishEvent(contract.RoutingKeyItemAdded, contract.ItemEvent{Email: "ann@example.test", Item: "lamp", Price: 1, EventID: "ev-idle"})
	time.Sleep(time.Second)
	if n := r.sink.Count(); n != 0 {
		t.Fatalf("%d e-mails sent without a relay", n)
	}
	if q := r.queueDepth(contract.QueueItemAdded); q != 1 {
		t.Fatalf("queue holds %d messages, want the event waiting", q)
	}
	stopMain(t, cancel, done)
}

// setMainEnv points Main's broker and database variables at the rig's.
func setMainEnv(t *testing.T, r *rig) {
	t.Helper()
	u, _ := url.Parse(r.url)
	pass, _ := u.User.Password()
	t.Setenv(contract.EnvAMQPUsername, u.User.Username())
	t.Setenv(contract.EnvAMQPPassword, pass)
	u.User = nil
	t.Setenv(contract.EnvAMQPURL, u.String())
	t.Setenv(contract.EnvMongoURI, r.dbURI)
}

// startMain runs Main as cmd/notifier does; cancel plays SIGTERM.
func startMain() (context.CancelFunc, <-chan error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- notifier.Main(ctx) }()
	return cancel, done
}

// stopMain cancels Main and requires it to return cleanly.
func stopMain(t *testing.T, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Main: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Main did not return after its context ended")
	}
}
