package edge_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rempart/rempart/internal/edge"
)

// discardWriter keeps nothing, so the benchmarks count the pipeline's own
// cost (net/http's parsing and writing are measured by bench/).
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header               { return d.h }
func (d *discardWriter) Write(p []byte) (int, error)       { return len(p), nil }
func (d *discardWriter) WriteString(s string) (int, error) { return len(s), nil }
func (d *discardWriter) WriteHeader(int)                   {}

func benchEdge(b *testing.B, body string) *edge.Edge {
	b.Helper()
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Content-Type", "video/mp2t")
		io.WriteString(w, body)
	}))
	b.Cleanup(o.Close)
	cfg := quick(b, o.URL)
	cfg.Sites[0].Hosts = []string{"live.example"}
	return startEdge(b, cfg, edge.Options{Logger: slog.New(slog.DiscardHandler)})
}

// request builds an origin-form request as net/http's server would.
func request(host, path string) *http.Request {
	r := httptest.NewRequest("GET", path, nil)
	r.Host, r.RemoteAddr = host, "127.0.0.7:40000"
	return r
}

func serveLoop(b *testing.B, e *edge.Edge, r *http.Request) {
	w := &discardWriter{h: http.Header{}}
	e.ServeHTTP(w, r) // warm: the first request fills the cache
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		e.ServeHTTP(w, r)
	}
}

// BenchmarkPipelineHit is a fresh cache hit through every stage: record,
// guard, route, cache lookup, stats.
func BenchmarkPipelineHit(b *testing.B) {
	for name, size := range map[string]int{"1KiB": 1 << 10, "1MiB": 1 << 20} {
		b.Run(name, func(b *testing.B) {
			e := benchEdge(b, strings.Repeat("x", size))
			serveLoop(b, e, request("live.example", "/live/a/1.ts"))
		})
	}
}

// BenchmarkPipelineRefuse is an unknown Host refused before any origin work.
func BenchmarkPipelineRefuse(b *testing.B) {
	e := benchEdge(b, "x")
	serveLoop(b, e, request("evil.example", "/live/a/1.ts"))
}

// TestBenchRequestIsAHit guards the benchmarks above against measuring the
// wrong path: the hit request must be a hit, the refused one refused.
func TestBenchRequestIsAHit(t *testing.T) {
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		io.WriteString(w, "x")
	}))
	defer o.Close()
	cfg := quick(t, o.URL)
	cfg.Sites[0].Hosts = []string{"live.example"}
	e := startEdge(t, cfg, edge.Options{})
	w := &discardWriter{h: http.Header{}}
	e.ServeHTTP(w, request("live.example", "/live/a/1.ts"))
	e.ServeHTTP(w, request("live.example", "/live/a/1.ts"))
	e.ServeHTTP(w, request("evil.example", "/live/a/1.ts"))
	m := scrape(t, e)
	for _, want := range []string{
		`rempart_requests_total{class="segment",outcome="hit"} 1`,
		`rempart_requests_total{class="unknown",outcome="refused"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
