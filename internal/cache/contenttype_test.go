package cache

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
)

func TestRefineByType(t *testing.T) {
	tests := []struct {
		cls   telemetry.Class
		fixed bool
		ct    string
		want  telemetry.Class
	}{
		{telemetry.ClassAPI, false, "video/MP2T", telemetry.ClassSegment},
		{telemetry.ClassAPI, false, "application/vnd.apple.mpegurl; charset=utf-8", telemetry.ClassMedia},
		{telemetry.ClassAPI, false, "audio/mpeg", telemetry.ClassOnDemand},
		{telemetry.ClassAPI, false, "application/json", telemetry.ClassAPI},
		{telemetry.ClassAPI, true, "video/mp2t", telemetry.ClassAPI},            // a route rule wins
		{telemetry.ClassOnDemand, false, "video/mp2t", telemetry.ClassOnDemand}, // only api is refined
	}
	for _, tt := range tests {
		if got := refineByType(tt.cls, tt.fixed, tt.ct); got != tt.want {
			t.Errorf("refineByType(%v, %v, %q) = %v, want %v", tt.cls, tt.fixed, tt.ct, got, tt.want)
		}
	}
}

// TestExtensionlessSegment: a segment whose URL has no extension is
// classified by its content type, so it takes the segment policy (cached
// for minutes) instead of the api policy (not stored without freshness).
func TestExtensionlessSegment(t *testing.T) {
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "video/mp2t")
		io.WriteString(w, "segment bytes")
	}, defaultOpts())
	first := e.do("GET", "/seg?id=7", telemetry.ClassAPI)
	if first.rec.Class != telemetry.ClassSegment {
		t.Fatalf("class = %v, want segment", first.rec.Class)
	}
	second := e.do("GET", "/seg?id=7", telemetry.ClassAPI)
	if second.rec.Outcome != telemetry.OutcomeHit || e.fetches.Load() != 1 {
		t.Fatalf("second request outcome %v with %d origin fetches, want a hit after 1", second.rec.Outcome, e.fetches.Load())
	}
}

// TestStripQuery: when the filter marks the record (a cache-busting
// mitigation), even an api request's query is dropped from the key and the
// origin request.
func TestStripQuery(t *testing.T) {
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery != "" {
			t.Errorf("origin got query %q", r.URL.RawQuery)
		}
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "catalog")
	}, defaultOpts())
	for _, q := range []string{"a=1", "b=2", "cb=3"} {
		rr := httptest.NewRecorder()
		tw := telemetry.NewWriter(rr, time.Now())
		tw.Rec.Class, tw.Rec.StripQuery = telemetry.ClassAPI, true
		e.h.ServeHTTP(tw, httptest.NewRequest("GET", "/api/catalog?"+q, nil))
		tw.Release()
	}
	if n := e.fetches.Load(); n != 1 {
		t.Fatalf("origin fetches = %d, want 1", n)
	}
}
