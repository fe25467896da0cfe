package filter

import (
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/mitigation"
	"github.com/rempart/rempart/internal/telemetry"
)

// TestThrottleSparesWhatCostsNothing: a throttle on the viewers' own
// fingerprint refuses what costs (unjudged, unlisted, offbeat requests),
// never a listed object asked at a player's pace nor a viewer; a shed
// route never refuses a viewer.
func TestThrottleSparesWhatCostsNothing(t *testing.T) {
	s, clk := newShield(t, config.Shield{})
	now := clk.Now()
	for _, m := range []mitigation.Mitigation{
		{ID: "t1", Kind: mitigation.ThrottleFingerprint, Fingerprint: 7, Rate: 1, Reason: "lookalike botnet", Until: now.Add(time.Minute)},
		{ID: "s1", Kind: mitigation.ShedRoute, Path: "/live/", Rate: 1, Reason: "storm", Until: now.Add(time.Minute)},
	} {
		if _, err := s.Apply(m); err != nil {
			t.Fatal(err)
		}
	}
	refused := func(cls telemetry.Class, known telemetry.Known, offbeat, viewer bool) int {
		n := 0
		for i := 0; i < 20; i++ {
			rec, r := request("198.51.100.7", cls, "/live/seg1.ts")
			rec.Fingerprint, rec.Known, rec.Offbeat, rec.Viewer = 7, known, offbeat, viewer
			if s.Decide(rec, r, now).Refused() {
				n++
			}
		}
		return n
	}
	if n := refused(telemetry.ClassSegment, telemetry.KnownListed, false, true); n != 0 {
		t.Errorf("a viewer asking listed segments: %d of 20 refused", n)
	}
	if n := refused(telemetry.ClassSegment, telemetry.KnownUnjudged, false, true); n != 0 {
		t.Errorf("a viewer is never shed nor throttled: %d of 20 refused", n)
	}
	for _, tc := range []struct {
		name    string
		known   telemetry.Known
		offbeat bool
	}{{"unjudged", telemetry.KnownUnjudged, false}, {"unlisted", telemetry.KnownUnlisted, false}, {"listed, offbeat", telemetry.KnownListed, true}} {
		if n := refused(telemetry.ClassSegment, tc.known, tc.offbeat, false); n < 18 {
			t.Errorf("%s: only %d of 20 refused", tc.name, n)
		}
	}
}
