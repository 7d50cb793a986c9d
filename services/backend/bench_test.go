package backend_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace/noop"

	"littleecom.io/littleecom/services/backend"
)

// The benchmarks call the API's handler in-process, FerretDB included, so ns/op counts the
// database too; the load generator (cmd/loadgen) separates the service's CPU from it.

func serve(b *testing.B, h http.Handler, method, path, token, body string, want int) {
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	var req *http.Request
	if rd != nil {
		req = httptest.NewRequest(method, path, rd)
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != want {
		b.Fatalf("%s %s = %d %s", method, path, rec.Code, rec.Body)
	}
}

func BenchmarkGetItems100(b *testing.B) {
	s := newShop(b)
	for i := range 100 {
		s.AddItem("seller@example.com", fmt.Sprintf("item %d", i), float64(i+1))
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			serve(b, s.Handler, "GET", "/items", "", "", 200)
		}
	})
}

func BenchmarkGetItem(b *testing.B) {
	s := newShop(b)
	id := s.AddItem("seller@example.com", "lamp", 3)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			serve(b, s.Handler, "GET", "/item/"+id, "", "", 200)
		}
	})
}

// BenchmarkGetItemCached is GET /item/{id} answered from the item cache: the service's
// own work per request, and what it leaves to the garbage collector (allocs/op).
func BenchmarkGetItemCached(b *testing.B) {
	s := newShop(b, func(c *backend.Config) {
		c.ItemCacheTTL, c.ItemCacheSize = time.Hour, 100
		c.Tracing = noop.NewTracerProvider() // as the service runs with no OTLP endpoint
	})
	id := s.AddItem("seller@example.com", "lamp", 3)
	serve(b, s.Handler, "GET", "/item/"+id, "", "", 200)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			serve(b, s.Handler, "GET", "/item/"+id, "", "", 200)
		}
	})
}

func BenchmarkPostItem(b *testing.B) {
	s := newShop(b)
	tok := s.Token("seller@example.com")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			serve(b, s.Handler, "POST", "/item", tok, `{"name":"lamp","price":3}`, 201)
		}
	})
}

func BenchmarkBuy(b *testing.B) {
	s := newShop(b)
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = s.AddItem("seller@example.com", "lamp", 3)
	}
	tok := s.Token("buyer@example.com")
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			serve(b, s.Handler, "POST", "/buy/"+ids[next.Add(1)-1], tok, "", 200)
		}
	})
}
