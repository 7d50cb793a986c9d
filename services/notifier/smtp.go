package notifier

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/config"
)

// SMTPConfig is how to reach the relay. It is safe to log: the password is a Secret.
type SMTPConfig struct {
	Host     string        `env:"SMTP_HOST"`
	Port     int           `env:"SMTP_PORT"`
	From     string        `env:"SMTP_FROM"`
	Username string        `env:"SMTP_USERNAME"`
	Password config.Secret `env:"SMTP_PASSWORD"`
	// StartTLS is contract.SMTPStartTLSIfAvailable, Always or Never. Empty means Always when
	// Username is set (a password must never cross the network in the clear, and a relay
	// that stops offering STARTTLS must not make it) and IfAvailable otherwise.
	StartTLS string `env:"SMTP_STARTTLS"`
	// DialTimeout bounds the TCP connect, greeting, EHLO, STARTTLS and AUTH together.
	DialTimeout time.Duration
	// SendTimeout bounds one message together: MAIL, RCPT, DATA and the server's answer.
	SendTimeout time.Duration
	// MaxIdle is how many open connections are kept for reuse. A connection per message
	// costs a TCP and SMTP handshake (and a TLS one with STARTTLS) each time.
	MaxIdle int
	// TLSConfig overrides the client TLS settings (tests); nil verifies Host normally.
	TLSConfig *tls.Config

	envelopeFrom string // the bare address of From, set by Config.resolved
}

// startTLSMode is StartTLS with its default filled in.
func (c SMTPConfig) startTLSMode() string {
	switch {
	case c.StartTLS != "":
		return c.StartTLS
	case c.Username != "":
		return contract.SMTPStartTLSAlways
	default:
		return contract.SMTPStartTLSIfAvailable
	}
}

// smtpConn keeps the TCP connection beside the client: closing it is how a context that
// ends aborts a command go-smtp is blocked in (see watch).
type smtpConn struct {
	*smtp.Client
	conn net.Conn
}

// sender delivers messages over SMTP, reusing connections between messages. go-smtp speaks
// the protocol; the pool, the context-driven timeouts and the STARTTLS policy are ours.
type sender struct {
	cfg  SMTPConfig
	addr string
	idle chan *smtpConn
	mu   sync.Mutex // guards closed
	done bool
}

func newSender(cfg SMTPConfig) *sender {
	if cfg.MaxIdle <= 0 {
		cfg.MaxIdle = 1
	}
	return &sender{
		cfg:  cfg,
		addr: net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)),
		idle: make(chan *smtpConn, cfg.MaxIdle),
	}
}

// send hands msg for to over to the SMTP server. A nil error means the server accepted the
// message (250 after DATA). On an error the message may or may not have been accepted when
// the failure came after the final dot; the caller retries, which is the one place a
// duplicate can arise (at-least-once at the SMTP boundary, as with any SMTP client).
func (s *sender) send(ctx context.Context, to string, msg []byte) error {
	c, reused, err := s.get(ctx)
	if err != nil {
		return err
	}
	err = s.transact(ctx, c, to, msg)
	var (
		sent  *sentError
		reply *smtp.SMTPError
	)
	if err != nil && reused && !errors.As(err, &sent) && !errors.As(err, &reply) {
		// A pooled connection the server closed while idle fails at MAIL with an I/O error,
		// before anything was handed over: try once more on a fresh connection. A reply from
		// the server (4xx/5xx) is an answer, not a dead connection, and is returned as is.
		_ = c.Close()
		if c, err = s.dial(ctx); err != nil {
			return err
		}
		err = s.transact(ctx, c, to, msg)
	}
	if err != nil {
		_ = c.Close()
		return err
	}
	s.put(c)
	return nil
}

// errRecipientRefused marks a permanent (5xx) answer to RCPT TO: the server will never take
// mail for this address (no such mailbox, relaying denied), so retrying only delays the
// message's way to the dead-letter queue. Other 5xx answers (to MAIL or DATA, or to AUTH)
// say more about the relay's configuration than about the message, and are retried: a
// fixed relay then still delivers.
var errRecipientRefused = errors.New("recipient refused by the SMTP server")

// sentError wraps a failure after the data was written: retrying the same connection is
// not safe to assume, and the message may have arrived.
type sentError struct{ err error }

func (e *sentError) Error() string { return e.err.Error() }
func (e *sentError) Unwrap() error { return e.err }

func (s *sender) transact(ctx context.Context, c *smtpConn, to string, msg []byte) (err error) {
	tctx, cancel := context.WithTimeout(ctx, s.cfg.SendTimeout)
	defer cancel()
	defer watch(tctx, c.conn, &err)()
	// As net/smtp did: ask for SMTPUTF8 whenever the relay offers it (go-smtp only on request).
	opts := &smtp.MailOptions{}
	opts.UTF8, _ = c.Extension("SMTPUTF8")
	if err := c.Mail(s.cfg.envelopeFrom, opts); err != nil {
		return fmt.Errorf("smtp MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to, nil); err != nil {
		_ = c.Reset()
		if reply, ok := errors.AsType[*smtp.SMTPError](err); ok && reply.Code >= 500 && reply.Code < 600 {
			return fmt.Errorf("smtp RCPT TO: %w: %w", errRecipientRefused, err)
		}
		return fmt.Errorf("smtp RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return &sentError{fmt.Errorf("smtp write message: %w", err)}
	}
	if err := w.Close(); err != nil {
		return &sentError{fmt.Errorf("smtp end of data: %w", err)}
	}
	return nil
}

// watch closes conn when ctx ends and returns the function that stops watching, which adds
// ctx's cause to *errp when ctx closed the connection. go-smtp bounds each command by its
// own timeout and clears the connection's deadline after every command, so a deadline set
// from ctx would not hold, and writing the message body has no timeout at all: closing the
// connection is the one way to abort a stuck send. A connection closed after a success is
// noticed at its next use, which redials.
func watch(ctx context.Context, conn net.Conn, errp *error) (stop func()) {
	unwatch := context.AfterFunc(ctx, func() { _ = conn.Close() })
	return func() {
		if !unwatch() && *errp != nil {
			*errp = fmt.Errorf("%w: %w", *errp, context.Cause(ctx))
		}
	}
}

// get takes an idle connection or dials a new one; reused says which.
func (s *sender) get(ctx context.Context) (*smtpConn, bool, error) {
	select {
	case c := <-s.idle:
		return c, true, nil
	default:
	}
	c, err := s.dial(ctx)
	return c, false, err
}

func (s *sender) put(c *smtpConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		_ = c.Quit()
		return
	}
	select {
	case s.idle <- c:
	default:
		_ = c.Quit()
	}
}

// close says QUIT on every idle connection; connections in use are closed when returned.
func (s *sender) close() {
	s.mu.Lock()
	s.done = true
	s.mu.Unlock()
	for {
		select {
		case c := <-s.idle:
			_ = c.Quit()
		default:
			return
		}
	}
}

// dial connects, greets, negotiates STARTTLS per the configured mode and authenticates,
// all within DialTimeout.
func (s *sender) dial(ctx context.Context) (*smtpConn, error) {
	mode := s.cfg.startTLSMode()
	c, err := s.dialMode(ctx, mode)
	if errors.Is(err, errNoStartTLS) && mode == contract.SMTPStartTLSIfAvailable {
		// go-smtp upgrades only a client it creates for that; this relay does not offer
		// STARTTLS, and IfAvailable then goes plain on a new connection.
		c, err = s.dialMode(ctx, contract.SMTPStartTLSNever)
	}
	return c, err
}

func (s *sender) dialMode(ctx context.Context, mode string) (_ *smtpConn, err error) {
	dctx, cancel := context.WithTimeout(ctx, s.cfg.DialTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(dctx, "tcp", s.addr)
	if err != nil {
		return nil, fmt.Errorf("smtp dial %s: %w", s.addr, err)
	}
	var client *smtp.Client
	func() {
		defer watch(dctx, conn, &err)()
		client, err = s.handshake(conn, mode)
		if err == nil && dctx.Err() != nil {
			err = errors.New("smtp handshake cut short") // watch closed the connection just as it ended
		}
	}()
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	// From here on, transact bounds each message by SendTimeout; go-smtp's own per-command
	// timeouts (minutes by default) are set to the same as a second guard.
	client.CommandTimeout, client.SubmissionTimeout = s.cfg.SendTimeout, s.cfg.SendTimeout
	return &smtpConn{Client: client, conn: conn}, nil
}

// errNoStartTLS is the server not offering STARTTLS.
var errNoStartTLS = errors.New("smtp server does not offer STARTTLS")

// goSMTPNoStartTLS is go-smtp's (v0.25.1) error text for a server without STARTTLS: it has
// no error value to compare with. TestSender_StartTLSModesAndAuth fails if it changes.
const goSMTPNoStartTLS = "smtp: server doesn't support STARTTLS"

// localName is what the notifier calls itself in EHLO.
const localName = "notifier.littleecom"

func (s *sender) handshake(conn net.Conn, mode string) (*smtp.Client, error) {
	var c *smtp.Client
	if mode == contract.SMTPStartTLSNever {
		c = smtp.NewClient(conn)
	} else {
		tlsCfg := s.cfg.TLSConfig
		if tlsCfg == nil {
			tlsCfg = &tls.Config{ServerName: s.cfg.Host, MinVersion: tls.VersionTLS12}
		}
		// Greets the server as "localhost" before the upgrade: go-smtp takes no name there.
		var err error
		if c, err = smtp.NewClientStartTLS(conn, tlsCfg); err != nil {
			if err.Error() == goSMTPNoStartTLS {
				return nil, fmt.Errorf("%w (%s) and %s=%s", errNoStartTLS, s.addr, contract.EnvSMTPStartTLS, mode)
			}
			return nil, fmt.Errorf("smtp STARTTLS with %s: %w", s.addr, err)
		}
	}
	if err := c.Hello(localName); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("smtp EHLO: %w", err)
	}
	if s.cfg.Username != "" {
		_, encrypted := c.TLSConnectionState()
		if err := plainAllowed(encrypted, s.cfg.Host); err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("smtp AUTH PLAIN as %s: %w", s.cfg.Username, err)
		}
		if err := c.Auth(sasl.NewPlainClient("", s.cfg.Username, s.cfg.Password.Reveal())); err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("smtp AUTH PLAIN as %s: %w", s.cfg.Username, err)
		}
	}
	return c, nil
}

// plainAllowed keeps net/smtp's safety net, which go-sasl's PLAIN does not have: the
// password goes over an unencrypted connection only to localhost. Whatever an unencrypted
// server says about itself (that it offers PLAIN, say) may be an attacker's word.
func plainAllowed(encrypted bool, host string) error {
	if encrypted || host == "localhost" || host == "127.0.0.1" || host == "::1" {
		return nil
	}
	return fmt.Errorf("refusing to send the password unencrypted to %s (only localhost goes without TLS)", host)
}
