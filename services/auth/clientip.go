package auth

import (
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
)

// client is what the per-client limits count: an IPv4 address, or the /64 of an IPv6 one. An
// IPv6 subscriber gets at least a /64 (RFC 6177), and any address in it costs nothing to
// use, so counting single IPv6 addresses would give one attacker 2^64 budgets.
func client(r *http.Request, trusted []netip.Prefix) string {
	ip := clientIP(r, trusted)
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Is4() {
		return ip
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}

// clientIP is the address the per-client limits count. It is the TCP peer unless the peer
// is a trusted proxy; then X-Forwarded-For is read from the right, skipping trusted proxies,
// and the first untrusted address wins — the leftmost entries are whatever the client wrote
// and cannot be believed.
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	peer := remoteAddr(r)
	if !peer.IsValid() {
		return r.RemoteAddr
	}
	if !isTrusted(peer, trusted) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for _, hop := range slices.Backward(hops) {
		a, err := netip.ParseAddr(strings.TrimSpace(hop))
		if err != nil {
			break // garbage from here on is the client's own writing
		}
		a = a.Unmap()
		if !isTrusted(a, trusted) {
			return a.String()
		}
	}
	return peer.String()
}

func remoteAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
