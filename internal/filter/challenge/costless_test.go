package challenge

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
)

// TestStageSparesWhatCostsNothing: in attack mode, a listed object asked at
// a player's pace and any request of a viewer pass without a challenge;
// the same request unlisted, unjudged or offbeat is challenged.
func TestStageSparesWhatCostsNothing(t *testing.T) {
	c := newChallenger(t, testConfig(), newClock())
	s := &Stage{C: c, Active: func() bool { return true }, Next: origin}
	for _, tc := range []struct {
		name    string
		known   telemetry.Known
		offbeat bool
		viewer  bool
		want    int
	}{
		{"listed at a player's pace", telemetry.KnownListed, false, false, http.StatusOK},
		{"a viewer's unjudged request", telemetry.KnownUnjudged, false, true, http.StatusOK},
		{"listed but offbeat", telemetry.KnownListed, true, false, http.StatusForbidden},
		{"unjudged", telemetry.KnownUnjudged, false, false, http.StatusForbidden},
		{"unlisted", telemetry.KnownUnlisted, false, false, http.StatusForbidden},
	} {
		rw := httptest.NewRecorder()
		tw := telemetry.NewWriter(rw, time.Now())
		tw.Rec.Known, tw.Rec.Offbeat, tw.Rec.Viewer = tc.known, tc.offbeat, tc.viewer
		s.ServeHTTP(tw, request("GET", "/live/seg1.ts", home, uaChrome, "Accept: */*"))
		tw.Release()
		if rw.Code != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, rw.Code, tc.want)
		}
	}
	if n := c.Stats().PassedListed.Load(); n != 2 {
		t.Errorf("passed_listed = %d, want 2", n)
	}
}
