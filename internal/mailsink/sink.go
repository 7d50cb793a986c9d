// Package mailsink is an in-process SMTP server that keeps every message it accepts. Tests of
// the notifier (and of anything that sends mail) use it as the real SMTP peer, and the local
// dev runner serves what it holds at GET /dev/mail, so nobody needs a mail server here.
package mailsink

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one mail the sink accepted. Body comes back with LF line endings.
type Message struct {
	From     string    `json:"from"`
	To       []string  `json:"to"`
	Subject  string    `json:"subject"`
	Body     string    `json:"body"`
	Received time.Time `json:"received"`
	// TLS says whether the message came over a connection upgraded with STARTTLS.
	TLS bool `json:"tls"`
}

// Option configures a Sink at Start.
type Option func(*Sink)

// WithAuth makes the sink advertise AUTH PLAIN and refuse MAIL from clients that did not
// authenticate with these credentials. Insecure (non-TLS) auth is allowed: the sink only
// listens on loopback for tests and local development.
func WithAuth(username, password string) Option {
	return func(s *Sink) { s.username, s.password = username, password }
}

// WithTLS makes the sink offer STARTTLS with cfg (tests make a self-signed certificate).
func WithTLS(cfg *tls.Config) Option {
	return func(s *Sink) { s.tlsConfig = cfg }
}

// errTempFailure is what a failing sink answers to DATA: a 451 is a temporary failure, which
// a well-behaved client retries later.
var errTempFailure = &smtp.SMTPError{
	Code:         451,
	EnhancedCode: smtp.EnhancedCode{4, 3, 0},
	Message:      "mailsink: temporarily refusing mail",
}

// errNoMailbox is what the sink answers to RCPT for an address RefuseRecipient named: a 550
// says the address will never work, so retrying is pointless.
var errNoMailbox = &smtp.SMTPError{
	Code:         550,
	EnhancedCode: smtp.EnhancedCode{5, 1, 1},
	Message:      "mailsink: no such mailbox",
}

// Sink is a running in-process SMTP server.
type Sink struct {
	server    *smtp.Server
	listener  net.Listener
	username  string
	password  string
	tlsConfig *tls.Config

	mu       sync.Mutex
	messages []Message
	failNext int             // refuse this many more messages
	failing  bool            // refuse every message until switched off
	unknown  map[string]bool // recipients refused for good (550), by address
	delay    time.Duration
	changed  chan struct{}
}

// Start listens on addr ("127.0.0.1:0" picks a free port) and serves SMTP until Close.
func Start(addr string, opts ...Option) (*Sink, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mailsink: listen on %s: %w", addr, err)
	}
	s := &Sink{listener: l, changed: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "mailsink.localhost"
	srv.AllowInsecureAuth = true
	srv.TLSConfig = s.tlsConfig
	srv.MaxMessageBytes = 1 << 20
	srv.MaxRecipients = 50
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	// go-smtp logs every client that drops a connection; for a test sink that is noise.
	srv.ErrorLog = log.New(io.Discard, "", 0)
	s.server = srv
	go func() { _ = srv.Serve(l) }()
	return s, nil
}

// Addr is the host:port the sink listens on.
func (s *Sink) Addr() string { return s.listener.Addr().String() }

// Host and Port split Addr, for code configured with separate host and port settings.
func (s *Sink) Host() string { h, _, _ := net.SplitHostPort(s.Addr()); return h }

// Port is the TCP port of Addr.
func (s *Sink) Port() int { return s.listener.Addr().(*net.TCPAddr).Port }

// Close stops the server and drops open client connections.
func (s *Sink) Close() error { return s.server.Close() }

// Messages returns a copy of what the sink accepted so far, in order of acceptance.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.messages))
	copy(out, s.messages)
	return out
}

// Count is len(Messages()) without the copy.
func (s *Sink) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.messages)
}

// Reset forgets every stored message.
func (s *Sink) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = nil
}

// FailNext makes the sink answer 451 to the next n messages (DATA), then accept again.
func (s *Sink) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = n
}

// RefuseRecipient makes the sink answer 550 (no such mailbox) to RCPT TO for addr, for good.
func (s *Sink) RefuseRecipient(addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unknown == nil {
		s.unknown = map[string]bool{}
	}
	s.unknown[strings.ToLower(addr)] = true
}

// SetFailing makes the sink answer 451 to every message until called with false.
func (s *Sink) SetFailing(failing bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failing = failing
}

// SetDelay makes the sink wait d before answering each message's DATA, like a slow relay;
// tests use it to hold messages in flight.
func (s *Sink) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// WaitFor blocks until the sink holds at least n messages, and returns them; it returns the
// context's error (with what arrived so far) when ctx ends first.
func (s *Sink) WaitFor(ctx context.Context, n int) ([]Message, error) {
	for {
		s.mu.Lock()
		if len(s.messages) >= n {
			s.mu.Unlock()
			return s.Messages(), nil
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			got := s.Messages()
			return got, fmt.Errorf("mailsink: waiting for %d messages, have %d: %w", n, len(got), ctx.Err())
		}
	}
}

// refuse reports whether the message now being delivered must be refused, and counts it.
func (s *Sink) refuse() bool {
	s.mu.Lock()
	delay := s.delay
	s.mu.Unlock()
	if delay > 0 {
		time.Sleep(delay)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failing {
		return true
	}
	if s.failNext > 0 {
		s.failNext--
		return true
	}
	return false
}

func (s *Sink) store(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, m)
	// Wake every WaitFor by closing the current channel and handing out a fresh one.
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Sink) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{sink: s, conn: c, authed: s.username == ""}, nil
}

// session is one SMTP client connection; it may carry several messages (RSET between them).
type session struct {
	sink   *Sink
	conn   *smtp.Conn
	authed bool
	from   string
	to     []string
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) AuthMechanisms() []string {
	if ss.sink.username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain || ss.sink.username == "" {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if identity != "" && identity != username {
			return smtp.ErrAuthFailed
		}
		if username != ss.sink.username || password != ss.sink.password {
			return smtp.ErrAuthFailed
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.sink.mu.Lock()
	unknown := ss.sink.unknown[strings.ToLower(to)]
	ss.sink.mu.Unlock()
	if unknown {
		return errNoMailbox
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("mailsink: read data: %w", err)
	}
	if ss.sink.refuse() {
		return errTempFailure
	}
	subject, body := parse(raw)
	_, isTLS := ss.conn.TLSConnectionState()
	ss.sink.store(Message{
		TLS:      isTLS,
		From:     ss.from,
		To:       append([]string(nil), ss.to...),
		Subject:  subject,
		Body:     body,
		Received: time.Now(),
	})
	return nil
}

func (ss *session) Reset() { ss.from, ss.to = "", nil }

func (ss *session) Logout() error { return nil }

// parse extracts the decoded Subject and the body; a message that is not RFC 5322 is kept
// whole as the body, since a sink that drops what it cannot parse would hide sender bugs.
func parse(raw []byte) (subject, body string) {
	m, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		return "", string(raw)
	}
	subject = m.Header.Get("Subject")
	var dec mime.WordDecoder
	if d, err := dec.DecodeHeader(subject); err == nil {
		subject = d
	}
	br := m.Body
	if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		br = quotedprintable.NewReader(br)
	}
	b, err := io.ReadAll(br)
	if err != nil && !errors.Is(err, io.EOF) {
		return subject, string(raw)
	}
	return subject, strings.ReplaceAll(string(b), "\r\n", "\n")
}
