package admission

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rempart/rempart/internal/telemetry"
)

// BenchmarkSessionPass is the admission stage's hot path: a segment
// request of an admitted viewer (session in a header, renewed).
func BenchmarkSessionPass(b *testing.B) {
	f := newFixture(&testing.T{}, testConfig(10))
	f.stage.Next = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	v := newViewer("192.0.2.1")
	f.t = &testing.T{}
	f.get(v, "/live/master.m3u8")
	req := httptest.NewRequest(http.MethodGet, "/live/seg1.ts", nil)
	req.Header.Set("User-Agent", v.ua)
	req.Header.Set(SessionHeader, v.session)
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		tw := telemetry.NewWriter(w, f.clk.now())
		tw.Rec.Client, tw.Rec.Class = v.addr, telemetry.ClassSegment
		f.stage.ServeHTTP(tw, req)
		tw.Release()
	}
}

// BenchmarkForgedSession is a flood of forged sessions: each refused.
func BenchmarkForgedSession(b *testing.B) {
	f := newFixture(&testing.T{}, testConfig(10))
	v := newViewer("192.0.2.1")
	req := httptest.NewRequest(http.MethodGet, "/live/seg1.ts", nil)
	req.Header.Set("User-Agent", v.ua)
	req.Header.Set(SessionHeader, "UbaDi1_5LhyQAAAAAAAAAAcAAAGh_7G6ALDBdFtLf8Nh6AbNeZa5pCzE31fDwah_sKDM5PNQccfcaxA5IhkJA0gj3ZEk")
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		tw := telemetry.NewWriter(w, f.clk.now())
		tw.Rec.Client, tw.Rec.Class = v.addr, telemetry.ClassSegment
		f.stage.ServeHTTP(tw, req)
		tw.Release()
	}
}

type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

var _ io.Writer = (*discard)(nil)
