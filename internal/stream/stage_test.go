package stream

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
)

// serve runs one request through s with a record of class cls from client.
func serve(s *Stage, path string, cls telemetry.Class, client netip.Addr, now time.Time) (*httptest.ResponseRecorder, telemetry.Record) {
	rw := httptest.NewRecorder()
	tw := telemetry.NewWriter(rw, now)
	defer tw.Release()
	tw.Rec.Class, tw.Rec.Client = cls, client
	s.ServeHTTP(tw, httptest.NewRequest(http.MethodGet, path, nil))
	return rw, tw.Rec
}

func TestStageRefusesUnlistedSegments(t *testing.T) {
	clk := newClock()
	c := newTestCatalog(clk)
	c.Learn("/live/index.m3u8", media(1, "s1.ts", "s2.ts"))
	reached := 0
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached++ })
	s := &Stage{Catalog: c, Refuse: true, Now: clk.now, Next: next, Pass: []string{"/live/vod/"}}
	client := netip.MustParseAddr("127.0.0.9")

	rw, rec := serve(s, "/live/x918273.ts?cb=1", telemetry.ClassSegment, client, clk.t)
	if rw.Code != http.StatusNotFound || reached != 0 || rec.Reason != ReasonUnlisted || rec.Known != telemetry.KnownUnlisted {
		t.Fatalf("unlisted segment: status %d, reached %d, reason %q, known %s", rw.Code, reached, rec.Reason, rec.Known)
	}
	if rw.Header().Get("Cache-Control") != "no-store" {
		t.Error("the refusal must not be cached downstream")
	}
	for _, tc := range []struct {
		path string
		cls  telemetry.Class
		want telemetry.Known
	}{
		{"/live/s1.ts", telemetry.ClassSegment, telemetry.KnownListed},
		{"/live/unknown.m3u8", telemetry.ClassMedia, telemetry.KnownUnlisted}, // playlists are judged, never refused here
		{"/live/vod/a.ts", telemetry.ClassSegment, telemetry.KnownUnjudged},   // a pass prefix
		{"/elsewhere/a.ts", telemetry.ClassSegment, telemetry.KnownUnjudged},
		{"/live/x.ts", telemetry.ClassAPI, telemetry.KnownUnjudged}, // only media classes are judged
	} {
		before := reached
		rw, rec := serve(s, tc.path, tc.cls, client, clk.t)
		if reached != before+1 || rw.Code != http.StatusOK || rec.Known != tc.want {
			t.Errorf("%s: status %d, passed on %v, known %s (want %s)", tc.path, rw.Code, reached == before+1, rec.Known, tc.want)
		}
	}

	s.Shadow = true
	rw, rec = serve(s, "/live/x2.ts", telemetry.ClassSegment, client, clk.t)
	if rw.Code != http.StatusOK || rec.Action != "shadow:unlisted" {
		t.Errorf("shadow mode: status %d action %q, want passed on and marked", rw.Code, rec.Action)
	}
	s.Shadow, s.Refuse = false, false
	if rw, _ := serve(s, "/live/x3.ts", telemetry.ClassSegment, client, clk.t); rw.Code != http.StatusOK {
		t.Errorf("unlisted: pass must pass on, got %d", rw.Code)
	}
}
