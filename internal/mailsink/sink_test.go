package mailsink_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/smtp"
	"strings"
	"sync"
	"testing"
	"time"

	"littleecom.io/littleecom/internal/mailsink"
)

func start(t *testing.T, opts ...mailsink.Option) *mailsink.Sink {
	t.Helper()
	s, err := mailsink.Start("127.0.0.1:0", opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

const msg = "From: shop@example.test\r\nTo: ann@example.test\r\nSubject: =?utf-8?q?Caf=C3=A9_sold?=\r\n\r\nline one\r\nline two\r\n"

func TestSink_StoresWhatItAccepts(t *testing.T) {
	s := start(t)
	if err := smtp.SendMail(s.Addr(), nil, "shop@example.test", []string{"ann@example.test", "bob@example.test"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	got := s.Messages()
	if len(got) != 1 {
		t.Fatalf("got %d messages, want 1", len(got))
	}
	m := got[0]
	if m.From != "shop@example.test" || strings.Join(m.To, ",") != "ann@example.test,bob@example.test" {
		t.Errorf("envelope = %q -> %q", m.From, m.To)
	}
	if m.Subject != "Café sold" {
		t.Errorf("subject = %q", m.Subject)
	}
	if m.Body != "line one\nline two\n" {
		t.Errorf("body = %q", m.Body)
	}
}

func TestSink_PlainAuth(t *testing.T) {
	s := start(t, mailsink.WithAuth("user", "secret"))
	if err := smtp.SendMail(s.Addr(), nil, "a@x.test", []string{"b@x.test"}, []byte(msg)); err == nil {
		t.Fatal("unauthenticated client was accepted")
	}
	bad := smtp.PlainAuth("", "user", "wrong", "127.0.0.1")
	if err := smtp.SendMail(s.Addr(), bad, "a@x.test", []string{"b@x.test"}, []byte(msg)); err == nil {
		t.Fatal("wrong password was accepted")
	}
	good := smtp.PlainAuth("", "user", "secret", "127.0.0.1")
	if err := smtp.SendMail(s.Addr(), good, "a@x.test", []string{"b@x.test"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	if n := s.Count(); n != 1 {
		t.Fatalf("stored %d, want 1", n)
	}
}

func TestSink_FailNextAndSetFailing(t *testing.T) {
	s := start(t)
	send := func() error { return smtp.SendMail(s.Addr(), nil, "a@x.test", []string{"b@x.test"}, []byte(msg)) }

	s.FailNext(2)
	for i := range 2 {
		err := send()
		if err == nil || !strings.Contains(err.Error(), "451") {
			t.Fatalf("send %d: err = %v, want a 451", i, err)
		}
	}
	if err := send(); err != nil {
		t.Fatalf("after FailNext ran out: %v", err)
	}

	s.SetFailing(true)
	if err := send(); err == nil {
		t.Fatal("failing sink accepted mail")
	}
	s.SetFailing(false)
	if err := send(); err != nil {
		t.Fatal(err)
	}
	if n := s.Count(); n != 2 {
		t.Fatalf("stored %d, want 2", n)
	}
}

func TestSink_WaitFor(t *testing.T) {
	s := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if err := smtp.SendMail(s.Addr(), nil, "a@x.test", []string{"b@x.test"}, []byte(msg)); err != nil {
				t.Error(err)
			}
		})
	}
	got, err := s.WaitFor(ctx, 20)
	if err != nil || len(got) != 20 {
		t.Fatalf("WaitFor: %d messages, %v", len(got), err)
	}
	wg.Wait()

	short, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	if _, err := s.WaitFor(short, 21); err == nil {
		t.Fatal("WaitFor returned without the 21st message")
	}
}

func TestSink_STARTTLS(t *testing.T) {
	serverTLS, roots, err := mailsink.SelfSigned("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	s := start(t, mailsink.WithTLS(serverTLS), mailsink.WithAuth("user", "secret"))
	c, err := smtp.Dial(s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	if ok, _ := c.Extension("STARTTLS"); !ok {
		t.Fatal("STARTTLS not offered")
	}
	if err := c.StartTLS(&tls.Config{ServerName: "127.0.0.1", RootCAs: roots}); err != nil {
		t.Fatal(err)
	}
	if err := c.Auth(smtp.PlainAuth("", "user", "secret", "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("a@x.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("b@x.test"); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte(msg))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := s.Messages(); len(got) != 1 || !got[0].TLS {
		t.Fatalf("messages = %+v, want one over TLS", got)
	}
}

func TestSink_Handler(t *testing.T) {
	s := start(t)
	get := func() []map[string]any {
		t.Helper()
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/dev/mail", nil))
		var out []map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out == nil {
			t.Fatalf("body %q: %v", rec.Body.String(), err)
		}
		return out
	}
	if got := get(); len(got) != 0 {
		t.Fatalf("empty sink serves %v", got)
	}
	if err := smtp.SendMail(s.Addr(), nil, "a@x.test", []string{"b@x.test"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	got := get()
	if len(got) != 1 || got[0]["subject"] != "Café sold" || got[0]["from"] != "a@x.test" {
		t.Fatalf("served %v", got)
	}
}
