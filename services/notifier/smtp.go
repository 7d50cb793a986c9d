package notifier

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"strconv"
	"sync"
	"time"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/config"
)

// SMTPConfig is how to reach the relay. It is safe to log: the password is a Secret.
type SMTPConfig struct {
	Host     string
	Port     int
	From     string
	Username string
	Password config.Secret
	// StartTLS is contract.SMTPStartTLSIfAvailable, Always or Never. Empty means Always when
	// Username is set (a password must never cross the network in the clear, and a relay
	// that stops offering STARTTLS must not make it) and IfAvailable otherwise.
	StartTLS string
	// DialTimeout bounds the TCP connect, greeting, EHLO, STARTTLS and AUTH.
	DialTimeout time.Duration
	// SendTimeout bounds one message: MAIL, RCPT, DATA and the server's answer to it.
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

// smtpConn keeps the TCP connection beside the client: net/smtp does not expose it, and
// deadlines are the only way to put timeouts on its commands.
type smtpConn struct {
	*smtp.Client
	conn net.Conn
}

// sender delivers messages over SMTP, reusing connections between messages.
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
		reply *textproto.Error
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

func (s *sender) transact(ctx context.Context, c *smtpConn, to string, msg []byte) error {
	stop := deadline(ctx, c, s.cfg.SendTimeout)
	defer stop()
	if err := c.Mail(s.cfg.envelopeFrom); err != nil {
		return fmt.Errorf("smtp MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		_ = c.Reset()
		if reply, ok := errors.AsType[*textproto.Error](err); ok && reply.Code >= 500 && reply.Code < 600 {
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

// dial connects, greets, negotiates STARTTLS per the configured mode and authenticates.
func (s *sender) dial(ctx context.Context) (*smtpConn, error) {
	d := net.Dialer{Timeout: s.cfg.DialTimeout}
	dctx, cancel := context.WithTimeout(ctx, s.cfg.DialTimeout)
	defer cancel()
	conn, err := d.DialContext(dctx, "tcp", s.addr)
	if err != nil {
		return nil, fmt.Errorf("smtp dial %s: %w", s.addr, err)
	}
	// One deadline for the whole handshake; net/smtp has no timeouts of its own.
	_ = conn.SetDeadline(time.Now().Add(s.cfg.DialTimeout))
	client, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("smtp greeting from %s: %w", s.addr, err)
	}
	c := &smtpConn{Client: client, conn: conn}
	if err := s.handshake(c); err != nil {
		_ = c.Close()
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	return c, nil
}

func (s *sender) handshake(c *smtpConn) error {
	if err := c.Hello("notifier.littleecom"); err != nil {
		return fmt.Errorf("smtp EHLO: %w", err)
	}
	mode := s.cfg.startTLSMode()
	offered, _ := c.Extension("STARTTLS")
	switch {
	case mode == contract.SMTPStartTLSNever:
	case offered:
		tlsCfg := s.cfg.TLSConfig
		if tlsCfg == nil {
			tlsCfg = &tls.Config{ServerName: s.cfg.Host, MinVersion: tls.VersionTLS12}
		}
		if err := c.StartTLS(tlsCfg); err != nil {
			return fmt.Errorf("smtp STARTTLS: %w", err)
		}
	case mode == contract.SMTPStartTLSAlways:
		return fmt.Errorf("smtp server %s does not offer STARTTLS and %s=%s", s.addr,
			contract.EnvSMTPStartTLS, contract.SMTPStartTLSAlways)
	}
	if s.cfg.Username != "" {
		// net/smtp's PLAIN refuses to send the password over an unencrypted connection to
		// anything but localhost: a deliberate safety net we keep.
		auth := smtp.PlainAuth("", s.cfg.Username, s.cfg.Password.Reveal(), s.cfg.Host)
		if err := c.Auth(auth); err != nil {
			return fmt.Errorf("smtp AUTH PLAIN as %s: %w", s.cfg.Username, err)
		}
	}
	return nil
}

// deadline bounds the commands on c by timeout and by ctx, whichever ends first. net/smtp
// has no context support, so ctx's end closes the connection's deadline instead.
func deadline(ctx context.Context, c *smtpConn, timeout time.Duration) (stop func()) {
	conn := c.conn
	d := time.Now().Add(timeout)
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		d = cd
	}
	_ = conn.SetDeadline(d)
	unwatch := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	return func() {
		unwatch()
		_ = conn.SetDeadline(time.Time{})
	}
}
