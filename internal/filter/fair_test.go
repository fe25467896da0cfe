package filter

import (
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/telemetry"
)

func TestFairRate(t *testing.T) {
	tests := []struct {
		name                  string
		rate, sources, factor float64
		want                  float64
	}{
		{"twice the mean", 3000, 300, 2, 20},
		{"never under a player's pace", 10, 100, 2, minFairRate},
		{"no traffic: no share", 0, 0, 2, 0},
		{"no sources: no share", 100, 0, 2, 0},
		{"unknown rate", math.NaN(), 10, 2, 0},
		{"infinite rate", math.Inf(1), 10, 2, 0},
	}
	for _, tt := range tests {
		if got := FairRate(tt.rate, tt.sources, tt.factor); got != tt.want {
			t.Errorf("%s: FairRate(%v, %v, %v) = %v, want %v", tt.name, tt.rate, tt.sources, tt.factor, got, tt.want)
		}
	}
}

// TestFairShare: under a share of 20 requests/s, a source asking what costs
// (objects no playlist lists, or listed ones out of a player's pace) gets
// its burst, then 429 busy with Retry-After, and its tokens back with
// time; a viewer and a listed object at a player's pace are never refused;
// each source has its own bucket; lifting the share refuses nothing.
func TestFairShare(t *testing.T) {
	s, clk := newShield(t, config.Shield{})
	if got := s.SetFairShare(0.2); got != minFairRate || s.FairShare() != minFairRate {
		t.Fatalf("SetFairShare(0.2) applied %v (in force %v), want the floor %v", got, s.FairShare(), minFairRate)
	}
	if got := s.SetFairShare(20); got != 20 {
		t.Fatalf("SetFairShare(20) applied %v", got)
	}
	ask := func(client string, n int, known telemetry.Known, offbeat, viewer bool) (refused int, last Verdict) {
		for range n {
			rec, r := request(client, telemetry.ClassSegment, "/live/seg1.ts")
			rec.Known, rec.Offbeat, rec.Viewer = known, offbeat, viewer
			if v := s.Decide(rec, r, clk.Now()); v.Refused() {
				refused, last = refused+1, v
			}
		}
		return refused, last
	}
	n, v := ask("198.51.100.7", 30, telemetry.KnownUnjudged, false, false)
	if n != 10 || v.Reason != ReasonBusy || v.Status != http.StatusTooManyRequests || v.RetryAfter != 1 {
		t.Fatalf("unjudged: %d of 30 refused, last %+v; want 10 (burst 20), 429 busy, Retry-After 1", n, v)
	}
	if n, _ := ask("198.51.100.8", 30, telemetry.KnownListed, true, false); n != 10 {
		t.Errorf("listed out of a player's pace: %d of 30 refused, want 10", n)
	}
	if n, _ := ask("198.51.100.9", 30, telemetry.KnownListed, false, false); n != 0 {
		t.Errorf("listed at a player's pace: %d of 30 refused, want none", n)
	}
	if n, _ := ask("198.51.100.10", 30, telemetry.KnownUnjudged, false, true); n != 0 {
		t.Errorf("a viewer: %d of 30 refused, want none", n)
	}
	if got := s.Stats().Refused[ReasonBusy].Load(); got != 20 {
		t.Errorf("refused busy counted %d, want 20", got)
	}
	clk.Add(time.Second)
	if n, _ := ask("198.51.100.7", 21, telemetry.KnownUnjudged, false, false); n != 1 {
		t.Errorf("a second later: %d of 21 refused, want 1 (20 tokens back)", n)
	}
	s.SetFairShare(0)
	if n, _ := ask("198.51.100.7", 20, telemetry.KnownUnjudged, false, false); n != 0 || s.FairShare() != 0 {
		t.Errorf("share lifted: %d of 20 refused (share %v), want none", n, s.FairShare())
	}
}

// TestFairShareRefusal: the stage answers a source over its share as it
// answers every refusal: at once, 429, Retry-After, a one-line body, the
// record saying why.
func TestFairShareRefusal(t *testing.T) {
	s, clk := newShield(t, config.Shield{})
	s.SetFairShare(1)
	st := &Stage{Shield: s, Next: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})}
	var rr *httptest.ResponseRecorder
	var rec telemetry.Record
	for range int(minFairBurst) + 1 {
		rr, rec = serveStage(st, "198.51.100.7", clk.Now())
	}
	if rr.Code != 429 || rr.Header().Get("Retry-After") != "1" || rec.Action != "busy" || rec.Reason != "busy" ||
		rr.Body.String() != "busy, retry later\n" {
		t.Fatalf("over its share: %d Retry-After %q action %q reason %q body %q", rr.Code, rr.Header().Get("Retry-After"),
			rec.Action, rec.Reason, rr.Body.String())
	}
}
