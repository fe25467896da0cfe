package cache

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
)

// discardWriter is a ResponseWriter that reuses its header map, so the
// benchmark measures the cache, not the writer.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

// BenchmarkHit measures the fast path: a fresh hit without Range or
// conditionals. Allocations per op should be the key only.
func BenchmarkHit(b *testing.B) {
	for _, bc := range []struct {
		name string
		path string
		cls  telemetry.Class
		size int
		ct   string
	}{
		{"playlist_1KB", "/live/a.m3u8", telemetry.ClassMedia, 1 << 10, "application/vnd.apple.mpegurl"},
		{"segment_1MB", "/live/seg1.ts", telemetry.ClassSegment, 1 << 20, "video/mp2t"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			body := append([]byte(playlist), bytes.Repeat([]byte("#"), bc.size-len(playlist))...)
			e := newEnv(b, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", bc.ct)
				w.Header().Set("Cache-Control", "max-age=3600")
				w.Write(body)
			}, defaultOpts())
			if r := e.do("GET", bc.path, bc.cls); r.code != 200 {
				b.Fatal(r.code)
			}
			req := httptest.NewRequest("GET", bc.path, nil)
			dw := &discardWriter{h: make(http.Header, 8)}
			b.ReportAllocs()
			b.SetBytes(int64(bc.size))
			for b.Loop() {
				clear(dw.h)
				tw := telemetry.NewWriter(dw, time.Time{})
				tw.Rec.Class = bc.cls
				e.h.ServeHTTP(tw, req)
				if tw.Rec.Outcome != telemetry.OutcomeHit {
					b.Fatal(tw.Rec.Outcome)
				}
				tw.Release()
			}
		})
	}
}
