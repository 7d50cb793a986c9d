package notifier

import (
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/internal/mailsink"
	"littleecom.io/littleecom/services/internal/config"
)

func TestSender_StartTLSModesAndAuth(t *testing.T) {
	serverTLS, roots, err := mailsink.SelfSigned("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	withTLS, err := mailsink.Start("127.0.0.1:0", mailsink.WithTLS(serverTLS), mailsink.WithAuth("notifier", "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = withTLS.Close() }()
	plain, err := mailsink.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = plain.Close() }()

	clientTLS := &tls.Config{ServerName: "127.0.0.1", RootCAs: roots, MinVersion: tls.VersionTLS12}
	cases := []struct {
		name    string
		sink    *mailsink.Sink
		mode    string
		user    string
		pass    string
		wantErr string // empty: delivered
		wantTLS bool
	}{
		{name: "IfAvailable upgrades and authenticates", sink: withTLS, mode: contract.SMTPStartTLSIfAvailable, user: "notifier", pass: "s3cret", wantTLS: true},
		{name: "Always upgrades", sink: withTLS, mode: contract.SMTPStartTLSAlways, user: "notifier", pass: "s3cret", wantTLS: true},
		{name: "Always refuses a server without STARTTLS", sink: plain, mode: contract.SMTPStartTLSAlways, wantErr: "does not offer STARTTLS"},
		{name: "IfAvailable goes plain without STARTTLS", sink: plain, mode: contract.SMTPStartTLSIfAvailable},
		{name: "Never stays plain", sink: withTLS, mode: contract.SMTPStartTLSNever, user: "notifier", pass: "s3cret"},
		{name: "wrong password", sink: withTLS, mode: contract.SMTPStartTLSAlways, user: "notifier", pass: "nope", wantErr: "AUTH"},
		// With credentials the default is Always: a relay that stops offering STARTTLS (or a
		// man in the middle that strips it) must not get the password in the clear.
		{name: "default with credentials upgrades", sink: withTLS, user: "notifier", pass: "s3cret", wantTLS: true},
		{name: "default with credentials refuses a server without STARTTLS", sink: plain, user: "notifier", pass: "s3cret", wantErr: "does not offer STARTTLS"},
		{name: "default without credentials goes plain without STARTTLS", sink: plain},
		{name: "no credentials where required", sink: withTLS, mode: contract.SMTPStartTLSAlways, wantErr: "MAIL FROM"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.sink.Reset()
			s := newSender(SMTPConfig{
				Host: tc.sink.Host(), Port: tc.sink.Port(), From: "no-reply@littleecom.test", envelopeFrom: "no-reply@littleecom.test",
				Username: tc.user, Password: config.Secret(tc.pass), StartTLS: tc.mode,
				DialTimeout: 2 * time.Second, SendTimeout: 2 * time.Second, TLSConfig: clientTLS,
			})
			defer s.close()
			msg := compose("no-reply@littleecom.test", email{To: "ann@example.test", Subject: "hi", Body: "hello\n"}, "ev", time.Now())
			err := s.send(context.Background(), "ann@example.test", msg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.wantErr)
				}
				if n := tc.sink.Count(); n != 0 {
					t.Fatalf("%d messages delivered despite the error", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := tc.sink.Messages()
			if len(got) != 1 || got[0].TLS != tc.wantTLS {
				t.Fatalf("messages = %+v, want one with TLS=%v", got, tc.wantTLS)
			}
		})
	}
}

func TestSender_ReusesConnectionsAndRedialsDeadOnes(t *testing.T) {
	sink, err := mailsink.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sink.Close() }()
	s := newSender(SMTPConfig{
		Host: sink.Host(), Port: sink.Port(), From: "a@x.test", envelopeFrom: "a@x.test",
		StartTLS: contract.SMTPStartTLSNever, DialTimeout: time.Second, SendTimeout: time.Second, MaxIdle: 2,
	})
	defer s.close()
	msg := compose("a@x.test", email{To: "b@x.test", Subject: "s", Body: "b\n"}, "ev", time.Now())
	for range 5 {
		if err := s.send(context.Background(), "b@x.test", msg); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.idle) != 1 {
		t.Errorf("%d idle connections after sequential sends, want 1 reused", len(s.idle))
	}
	// The server drops the idle connection (as relays do after a timeout): the next send
	// notices at MAIL and redials instead of failing.
	c := <-s.idle
	_ = c.conn.Close()
	s.idle <- c
	if err := s.send(context.Background(), "b@x.test", msg); err != nil {
		t.Fatalf("send after the idle connection died: %v", err)
	}
	if n := sink.Count(); n != 6 {
		t.Errorf("%d messages, want 6", n)
	}
}

func TestSender_TimesOutOnASlowServer(t *testing.T) {
	sink, err := mailsink.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sink.Close() }()
	sink.SetDelay(2 * time.Second)
	s := newSender(SMTPConfig{
		Host: sink.Host(), Port: sink.Port(), From: "a@x.test", envelopeFrom: "a@x.test",
		StartTLS: contract.SMTPStartTLSNever, DialTimeout: time.Second, SendTimeout: 200 * time.Millisecond,
	})
	defer s.close()
	start := time.Now()
	err = s.send(context.Background(), "b@x.test", compose("a@x.test", email{To: "b@x.test"}, "ev", time.Now()))
	if err == nil {
		t.Fatal("send to a stuck server succeeded")
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("send took %s despite a 200ms timeout", took)
	}
}

// net/smtp refused to send PLAIN credentials over an unencrypted connection to anything but
// localhost; go-sasl's PLAIN does not, so the sender checks. The sink takes AUTH without TLS,
// so only the sender's refusal keeps the password off the wire here. "::ffff:127.0.0.1" is
// the loopback address under a name that is not localhost's.
func TestSender_RefusesPlainAuthUnencryptedToARemoteHost(t *testing.T) {
	sink, err := mailsink.Start("127.0.0.1:0", mailsink.WithAuth("notifier", "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sink.Close() }()
	msg := compose("a@x.test", email{To: "b@x.test", Subject: "s", Body: "b\n"}, "ev", time.Now())
	for host, wantErr := range map[string]bool{"::ffff:127.0.0.1": true, "127.0.0.1": false} {
		t.Run(host, func(t *testing.T) {
			sink.Reset()
			s := newSender(SMTPConfig{
				Host: host, Port: sink.Port(), From: "a@x.test", envelopeFrom: "a@x.test",
				Username: "notifier", Password: "s3cret", StartTLS: contract.SMTPStartTLSNever,
				DialTimeout: 2 * time.Second, SendTimeout: 2 * time.Second,
			})
			defer s.close()
			err := s.send(context.Background(), "b@x.test", msg)
			if !wantErr {
				if err != nil || sink.Count() != 1 {
					t.Fatalf("to localhost: err = %v, %d delivered", err, sink.Count())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "unencrypted") {
				t.Fatalf("err = %v, want a refusal to send the password unencrypted", err)
			}
			if sink.Count() != 0 {
				t.Fatal("delivered despite the refusal")
			}
		})
	}
}

func TestPlainAllowed(t *testing.T) {
	for _, tc := range []struct {
		encrypted bool
		host      string
		ok        bool
	}{
		{true, "smtp.example.test", true},
		{false, "smtp.example.test", false},
		{false, "localhost", true},
		{false, "127.0.0.1", true},
		{false, "::1", true},
		{false, "127.0.0.2", false}, // as net/smtp: only these three names count as local
	} {
		if err := plainAllowed(tc.encrypted, tc.host); (err == nil) != tc.ok {
			t.Errorf("plainAllowed(%v, %q) = %v, want ok=%v", tc.encrypted, tc.host, err, tc.ok)
		}
	}
}

// Cancelling the context aborts a send stuck waiting for the server, well before
// SendTimeout: go-smtp's own per-command timeouts would wait it out.
func TestSender_CancelAbortsAStuckSend(t *testing.T) {
	sink, err := mailsink.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sink.Close() }()
	sink.SetDelay(30 * time.Second) // answers DATA only after the test's timeout would notice
	s := newSender(SMTPConfig{
		Host: sink.Host(), Port: sink.Port(), From: "a@x.test", envelopeFrom: "a@x.test",
		StartTLS: contract.SMTPStartTLSNever, DialTimeout: time.Minute, SendTimeout: time.Minute,
	})
	defer s.close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(200*time.Millisecond, cancel)
	err = s.send(ctx, "b@x.test", compose("a@x.test", email{To: "b@x.test"}, "ev", time.Now()))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want the send aborted by the cancelled context", err)
	}
}

// BenchmarkSender is the SMTP client's share of a notification: one message over a pooled
// connection to the in-process sink (plain, and with STARTTLS and AUTH PLAIN).
func BenchmarkSender(b *testing.B) {
	b.Run("plain", func(b *testing.B) {
		sink, err := mailsink.Start("127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer func() { _ = sink.Close() }()
		benchSend(b, SMTPConfig{Host: sink.Host(), Port: sink.Port(), StartTLS: contract.SMTPStartTLSNever})
	})
	b.Run("starttls_auth", func(b *testing.B) {
		serverTLS, roots, err := mailsink.SelfSigned("127.0.0.1")
		if err != nil {
			b.Fatal(err)
		}
		sink, err := mailsink.Start("127.0.0.1:0", mailsink.WithTLS(serverTLS), mailsink.WithAuth("notifier", "s3cret"))
		if err != nil {
			b.Fatal(err)
		}
		defer func() { _ = sink.Close() }()
		benchSend(b, SMTPConfig{
			Host: sink.Host(), Port: sink.Port(), Username: "notifier", Password: "s3cret",
			StartTLS:  contract.SMTPStartTLSAlways,
			TLSConfig: &tls.Config{ServerName: "127.0.0.1", RootCAs: roots, MinVersion: tls.VersionTLS12},
		})
	})
}

func benchSend(b *testing.B, cfg SMTPConfig) {
	cfg.From, cfg.envelopeFrom = "a@x.test", "a@x.test"
	cfg.DialTimeout, cfg.SendTimeout = 5*time.Second, 5*time.Second
	s := newSender(cfg)
	defer s.close()
	msg := compose("a@x.test", email{To: "b@x.test", Subject: "s", Body: "b\n"}, "ev", time.Now())
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.send(ctx, "b@x.test", msg); err != nil {
			b.Fatal(err)
		}
	}
}
