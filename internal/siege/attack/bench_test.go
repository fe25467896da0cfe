package attack

import (
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/siege/sim"
)

// fastServe answers every request on c with a tiny canned response, as a
// cache hit on a fast edge would, spending as little CPU as it can: the
// benchmark shares the machine with it.
func fastServe(c net.Conn) {
	const resp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nCache-Control: max-age=1\r\n\r\nok"
	buf := make([]byte, 16<<10)
	out := make([]byte, 0, 16<<10)
	state := 0 // bytes of "\r\n\r\n" matched so far
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		out = out[:0]
		for _, b := range buf[:n] {
			switch {
			case b == "\r\n\r\n"[state]:
				state++
			case b == '\r':
				state = 1
			default:
				state = 0
			}
			if state == 4 {
				out = append(out, resp...)
				state = 0
			}
		}
		if len(out) > 0 {
			if _, err := c.Write(out); err != nil {
				return
			}
		}
	}
}

// BenchmarkGetFlood measures get-flood's requests/s and allocations per
// request against fastServe, 64 clients at a time, each with its own
// address as the runner gives them, folded onto 1 or 256 (the default)
// source addresses, or each keeping its own (a new connection per request).
func BenchmarkGetFlood(b *testing.B) {
	b.Run("sources=1", func(b *testing.B) { benchFlood(b, 1) })
	b.Run("sources=256", func(b *testing.B) { benchFlood(b, 256) })
	b.Run("own-address", func(b *testing.B) { benchFlood(b, 0) })
}

func benchFlood(b *testing.B, sources int) {
	srv := startTCP(b, fastServe)
	env, r := newEnv(b, srv.url(), sim.Params{"sources": sources}, 1<<62)
	r.keep = false
	m := Models()["get-flood"]
	var nextID atomic.Int64
	b.SetParallelism(32)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := nextID.Add(1)
			m.Run(b.Context(), env, sim.Client{ID: id, Source: source(int(id % 1_000_000)), Intended: time.Now()})
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	if r.errs.Load() != 0 {
		b.Fatalf("%d errors", r.errs.Load())
	}
}

// BenchmarkNetHTTPGet is the same load through net/http's client, the
// baseline the lean engine is measured against.
func BenchmarkNetHTTPGet(b *testing.B) {
	srv := startTCP(b, fastServe)
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr}
	url := srv.url() + "/live/master.m3u8"
	b.SetParallelism(32)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := cl.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}

// TestFastServe keeps the benchmark's server honest.
func TestFastServe(t *testing.T) {
	srv := startTCP(t, fastServe)
	env, r := newEnv(t, srv.url(), nil, 100)
	for range 100 {
		Models()["cache-bust"].Run(t.Context(), env, sim.Client{Intended: time.Now()})
	}
	for _, q := range r.all() {
		if q.err != nil || q.status != 200 || q.bytes != 2 {
			t.Fatalf("recorded %d, %d bytes, %v", q.status, q.bytes, q.err)
		}
	}
}
