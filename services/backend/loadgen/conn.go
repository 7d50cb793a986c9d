package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"time"
)

// workerConn is one worker's keep-alive connection to the service: the request is written
// and its response read on the worker's own goroutine, as wrk does. net/http's Transport
// hands each request to a writer and a reader goroutine per connection and back, three
// wake-ups per request; on two cores shared with the service and the database those
// hand-offs were much of what the load generator measured (the service answers a cached
// GET /item/{id} in ~15 us of its own time, the client saw 0.5 ms; docs/performance-backend.md).
type workerConn struct {
	conn net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
}

// requestTimeout bounds one request, as the http.Client's timeout does.
const requestTimeout = 30 * time.Second

// roundTrip sends req to its URL's host and returns the response's status and body. A
// failed exchange or a response that closes the connection leaves the next request a fresh
// connection.
func (w *workerConn) roundTrip(ctx context.Context, req *http.Request) (int, []byte, error) {
	if w.conn == nil {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", req.URL.Host)
		if err != nil {
			return 0, nil, err
		}
		w.conn, w.br, w.bw = c, bufio.NewReader(c), bufio.NewWriter(c)
	}
	status, body, keep, err := w.exchange(req)
	if err != nil || !keep {
		_ = w.conn.Close()
		w.conn = nil
	}
	return status, body, err
}

func (w *workerConn) exchange(req *http.Request) (status int, body []byte, keep bool, err error) {
	if err := w.conn.SetDeadline(time.Now().Add(requestTimeout)); err != nil {
		return 0, nil, false, err
	}
	if err := req.Write(w.bw); err != nil {
		return 0, nil, false, err
	}
	if err := w.bw.Flush(); err != nil {
		return 0, nil, false, err
	}
	resp, err := http.ReadResponse(w.br, req)
	if err != nil {
		return 0, nil, false, err
	}
	var buf bytes.Buffer
	_, err = io.Copy(&buf, resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return 0, nil, false, err
	}
	return resp.StatusCode, buf.Bytes(), !resp.Close, nil
}

func (w *workerConn) close() {
	if w.conn != nil {
		_ = w.conn.Close()
		w.conn = nil
	}
}
