package devstack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Mail is one e-mail the sink received, as GET /dev/mail shows it.
type Mail struct {
	From    string   `json:"from"`
	To      []string `json:"to"`
	Subject string   `json:"subject"`
	Body    string   `json:"body"`
}

// mailSink is an in-process SMTP server that keeps every message in memory. (The services'
// own sink, services/internal/mailsink, is internal to services/ and cannot be imported from
// here; this one is the few lines the dev runner needs.)
type mailSink struct {
	server   *smtp.Server
	listener net.Listener

	mu       sync.Mutex
	messages []Mail
}

func startMailSink(addr string) (*mailSink, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("smtp sink: listen on %s: %w", addr, err)
	}
	s := &mailSink{listener: l}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &mailSession{sink: s}, nil }))
	srv.Domain = "littleecom-dev.localhost"
	srv.AllowInsecureAuth = true
	srv.MaxMessageBytes = 1 << 20
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.ErrorLog = log.New(io.Discard, "", 0)
	s.server = srv
	go func() { _ = srv.Serve(l) }()
	return s, nil
}

func (s *mailSink) addr() *net.TCPAddr { return s.listener.Addr().(*net.TCPAddr) }

func (s *mailSink) close() error { return s.server.Close() }

// Messages returns what the sink received, oldest first.
func (s *mailSink) Messages() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail{}, s.messages...)
}

// ServeHTTP serves the messages as a JSON array, newest last.
func (s *mailSink) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(s.Messages())
}

type mailSession struct {
	sink *mailSink
	from string
	to   []string
}

func (ss *mailSession) Mail(from string, _ *smtp.MailOptions) error { ss.from = from; return nil }

func (ss *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *mailSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read data: %w", err)
	}
	subject, body := parseMail(raw)
	ss.sink.mu.Lock()
	ss.sink.messages = append(ss.sink.messages, Mail{From: ss.from, To: append([]string{}, ss.to...), Subject: subject, Body: body})
	ss.sink.mu.Unlock()
	return nil
}

func (ss *mailSession) Reset() { ss.from, ss.to = "", nil }

func (ss *mailSession) Logout() error { return nil }

// parseMail returns the decoded subject and body (LF line endings); what is not RFC 5322 is
// kept whole as the body.
func parseMail(raw []byte) (subject, body string) {
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
