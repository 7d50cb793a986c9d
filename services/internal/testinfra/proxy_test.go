package testinfra_test

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"

	"littleecom.io/littleecom/services/internal/testinfra"
)

// echoServer answers every line it reads with the same line.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(c, c); _ = c.Close() }()
		}
	}()
	return ln.Addr().String()
}

// roundTrip sends a line through addr and reads it back; an error means the peer is "down".
func roundTrip(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return err
	}
	_, err = bufio.NewReader(c).ReadString('\n')
	return err
}

func TestProxy_ForwardsOnlyWhileStarted(t *testing.T) {
	p := testinfra.NewProxy(t, echoServer(t))
	if err := roundTrip(p.Addr); err == nil {
		t.Fatal("a proxy not started forwarded a connection")
	}
	p.Start()
	if err := roundTrip(p.Addr); err != nil {
		t.Fatalf("started proxy: %v", err)
	}

	held, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = held.Close() }()
	if _, err := held.Write([]byte("ping\n")); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(held)
	if _, err := r.ReadString('\n'); err != nil {
		t.Fatalf("held connection: %v", err)
	}
	p.Stop()
	_ = held.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.ReadString('\n'); err == nil {
		t.Fatal("Stop left a forwarded connection open")
	}
	if err := roundTrip(p.Addr); err == nil {
		t.Fatal("a stopped proxy forwarded a new connection")
	}
	p.Start()
	if err := roundTrip(p.Addr); err != nil {
		t.Fatalf("restarted proxy, same address: %v", err)
	}
}
