package amqpx_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/amqpx"
	"littleecom.io/littleecom/services/internal/config"
	"littleecom.io/littleecom/services/internal/testinfra"
)

// splitCredentials moves the test broker URL's credentials into their own settings, as the
// services get them in a cluster.
func splitCredentials(t *testing.T, raw string) amqpx.Config {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	pass, _ := u.User.Password()
	user := u.User.Username()
	u.User = nil
	return amqpx.Config{URL: u.String(), Username: user, Password: config.Secret(pass), DialTimeout: 2 * time.Second}
}

func TestDial_CredentialsFromTheirOwnSettings(t *testing.T) {
	cfg := splitCredentials(t, testinfra.AMQPVHost(t))
	conn, err := amqpx.Dial(cfg, "amqpx-test")
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	_ = conn.Close()

	cfg.Password = "not-the-password-4711"
	_, err = amqpx.Dial(cfg, "amqpx-test")
	if err == nil {
		t.Fatal("a wrong password was accepted")
	}
	if msg := err.Error(); strings.Contains(msg, "4711") || !strings.Contains(msg, cfg.URL) {
		t.Fatalf("error %q: want the URL and no password", msg)
	}
}

func TestDial_ErrorRedactsAPasswordInTheURL(t *testing.T) {
	// Nothing listens on port 1 of loopback.
	_, err := amqpx.Dial(amqpx.Config{URL: "amqp://user:secret-4711@127.0.0.1:1/", DialTimeout: time.Second}, "amqpx-test")
	if err == nil || strings.Contains(err.Error(), "secret-4711") {
		t.Fatalf("err = %v: want an error without the password", err)
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Setenv(contract.EnvAMQPURL, "amqp://rabbit:5672/shop")
	t.Setenv(contract.EnvAMQPUsername, "backend")
	t.Setenv(contract.EnvAMQPPassword, "hunter2")
	cfg, err := amqpx.ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.URL != "amqp://rabbit:5672/shop" || cfg.Username != "backend" || cfg.Password.Reveal() != "hunter2" ||
		cfg.DialTimeout != amqpx.DefaultDialTimeout || cfg.ReconnectMin != amqpx.DefaultReconnectMin ||
		cfg.ReconnectMax != amqpx.DefaultReconnectMax {
		t.Errorf("cfg = %+v", cfg)
	}
	if s := fmt.Sprintf("%v %+v %s", cfg, cfg, cfg.LogValue()); strings.Contains(s, "hunter2") {
		t.Errorf("password shows in %s", s)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("valid URL refused: %v", err)
	}
	for _, bad := range []string{"", "http://rabbit/", "rabbit:5672"} {
		if err := (amqpx.Config{URL: bad}).Validate(); err == nil {
			t.Errorf("URL %q accepted", bad)
		}
	}
}

func TestWithDefaults_ReconnectBounds(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct{ min, max, wantMin, wantMax time.Duration }{
		{0, 0, amqpx.DefaultReconnectMin, amqpx.DefaultReconnectMax},
		{50 * ms, 200 * ms, 50 * ms, 200 * ms},
		{0, 300 * ms, 300 * ms, 300 * ms}, // a test's short maximum keeps the minimum under it
		{time.Minute, 0, time.Minute, time.Minute},
		{time.Second, 100 * ms, time.Second, time.Second},
	} {
		c := amqpx.Config{ReconnectMin: tc.min, ReconnectMax: tc.max}.WithDefaults()
		if c.ReconnectMin != tc.wantMin || c.ReconnectMax != tc.wantMax {
			t.Errorf("(%v, %v) -> (%v, %v), want (%v, %v)", tc.min, tc.max, c.ReconnectMin, c.ReconnectMax, tc.wantMin, tc.wantMax)
		}
	}
}

func TestBackoff_DoublesWithJitterUpToTheMaximumAndResets(t *testing.T) {
	b := amqpx.NewBackoff(amqpx.Config{ReconnectMin: 100 * time.Millisecond, ReconnectMax: 800 * time.Millisecond})
	steps := []time.Duration{100, 200, 400, 800, 800}
	for i, step := range steps {
		step *= time.Millisecond
		if got := b.Next(); got < step/2 || got > step {
			t.Fatalf("wait %d = %v, want within [%v, %v]", i, got, step/2, step)
		}
	}
	b.Reset()
	if got := b.Next(); got > 100*time.Millisecond {
		t.Fatalf("after Reset: %v, want at most the minimum", got)
	}

	// The first wait is spread over the whole upper half of the step, and never leaves it.
	lo, hi := time.Hour, time.Duration(0)
	for range 2000 {
		b.Reset()
		got := b.Next()
		lo, hi = min(lo, got), max(hi, got)
	}
	if lo < 50*time.Millisecond || hi > 100*time.Millisecond || lo > 55*time.Millisecond || hi < 95*time.Millisecond {
		t.Errorf("first waits spread over [%v, %v], want [50ms, 100ms] nearly filled", lo, hi)
	}
}
