package edge

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
)

// discard keeps nothing: the benchmark counts the edge's own cost.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header               { return d.h }
func (d *discard) Write(p []byte) (int, error)       { return len(p), nil }
func (d *discard) WriteString(s string) (int, error) { return len(s), nil }
func (d *discard) WriteHeader(int)                   {}

// SetWriteDeadline is there as on net/http's writer, for the minimum rate.
func (d *discard) SetWriteDeadline(time.Time) error { return nil }

// BenchmarkServerHandler runs a request through everything the public server
// runs: minimum read rate, per-connection request rate, the record, hygiene,
// identity, route, filter, challenge, cache, stats and the detector. "hit"
// has no rate limit in the way; "refused" is one address over its segment
// limit: the common path under a flood.
func BenchmarkServerHandler(b *testing.B) {
	b.Run("hit", func(b *testing.B) { benchHandler(b, []config.RateLimit{}) })
	b.Run("refused", func(b *testing.B) { benchHandler(b, nil) })
}

func benchHandler(b *testing.B, rates []config.RateLimit) {
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		io.WriteString(w, "segment")
	}))
	defer o.Close()
	cfg, err := config.Quick("127.0.0.1:0", o.URL)
	if err != nil {
		b.Fatal(err)
	}
	cfg.Shield.Conns.RequestRate = 1e6 // one connection asks far more than a player would
	cfg.Shield.Conns.RequestBurst = 1000000
	if rates != nil {
		cfg.Shield.Rates = rates
	}
	e, err := New(cfg, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer e.store.Close()
	h := e.handler(cfg)
	c1, c2 := net.Pipe()
	defer c1.Close()
	defer c2.Close()
	ctx := connContext(context.Background(), c1)
	r := httptest.NewRequest("GET", "/live/a/1.ts", nil).WithContext(ctx)
	r.RemoteAddr = "127.0.0.7:40000"
	w := &discard{h: http.Header{}}
	h.ServeHTTP(w, r)
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}
