package testinfra

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy forwards TCP connections from a loopback address to a target while it is started.
// Until Start, and after Stop, every connection is reset as soon as it is accepted: clients
// fail as they do against a broker that is down. The address stays bound for the proxy's
// whole life, so nothing else can take it between a Stop and the next Start (closing the
// listener and binding the port again later would race with other tests' listeners).
type Proxy struct {
	t      testing.TB
	Addr   string
	target string
	ln     net.Listener

	mu    sync.Mutex
	up    bool
	conns []net.Conn
}

// NewProxy binds a free loopback port for a proxy to target, not yet forwarding.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p := &Proxy{t: t, Addr: ln.Addr().String(), target: target, ln: ln}
	go p.accept()
	t.Cleanup(func() {
		_ = ln.Close()
		p.Stop()
	})
	return p
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // the test is over
		}
		p.mu.Lock()
		up := p.up
		p.mu.Unlock()
		if !up {
			reset(c)
			continue
		}
		up2, err := net.Dial("tcp", p.target)
		if err != nil {
			reset(c)
			continue
		}
		p.mu.Lock()
		if !p.up { // stopped while dialling
			p.mu.Unlock()
			reset(c)
			_ = up2.Close()
			continue
		}
		p.conns = append(p.conns, c, up2)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up2, c); _ = up2.Close() }()
		go func() { _, _ = io.Copy(c, up2); _ = c.Close() }()
	}
}

// reset closes c with an RST rather than a FIN, as a refused or crashed peer answers.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// Start forwards every connection from now on.
func (p *Proxy) Start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.up = true
}

// Stop resets every forwarded connection and every later one until the next Start.
func (p *Proxy) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.up = false
	for _, c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = c.Close()
	}
	p.conns = nil
}
