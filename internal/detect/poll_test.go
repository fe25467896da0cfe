package detect

import (
	"net/netip"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/mitigation"
)

// TestThinMediaFloodIsPolling: a flood of the media playlist players
// fetch, from 256 addresses at 4 requests/s each over 64 keep-alive
// connections apiece — what siege's media-flood delivers when the edge and
// the flooder share a saturated CPU. No source is heavy and no connection
// repeats a URL, but every address asks the playlist and never a segment:
// each is blocked, with or without a baseline, and lifted once it stops.
func TestThinMediaFloodIsPolling(t *testing.T) {
	for _, cold := range []bool{false, true} {
		name := map[bool]string{false: "warm", true: "cold"}[cold]
		t.Run(name, func(t *testing.T) {
			var w *world
			var v *viewers
			if cold {
				w = newWorld(t)
				v = &viewers{base: viewerBase, joins: func(int) int { return 5 }}
				w.pops = append(w.pops, v)
				w.run(3)
			} else {
				w, v = baselineWorld(t)
			}
			flood := mediaFlood(sources([2]byte{203, 2}, 256), 4, 64)
			flood.on = true
			w.pops = append(w.pops, flood)
			w.run(3)
			st := w.d.Status()
			if !hasAttack(st, GetFlood) || w.act.kinds()[mitigation.BlockPrefix] < 256 {
				t.Fatalf("not mitigated in 3 ticks: verdict %s attacks %+v kinds %v evidence %+v",
					st.Verdict, st.Attacks, w.act.kinds(), st.Evidence)
			}
			checkViewersSpared(t, w, v)
			flood.on = false
			w.run(int(liftAfter/time.Second) + 2)
			if n := len(w.act.active); n != 0 {
				t.Fatalf("%d mitigations still active after the flood stopped: %v", n, w.act.kinds())
			}
		})
	}
}

// TestStalledHouseholdIsNoPoller: sixty players behind one address whose
// stream stops advancing reload their playlist every second and find no
// segment to ask: 60 playlists/s from one address and no segment, as a
// poller would. They played segments a moment ago, so they are no flood.
func TestStalledHouseholdIsNoPoller(t *testing.T) {
	w, _ := baselineWorld(t)
	home := &viewers{nat: netip.MustParseAddr("10.9.9.9"), joins: func(sec int) int {
		return map[bool]int{true: 20}[sec < 33]
	}}
	w.pops = append(w.pops, home)
	w.run(10)
	home.stalled = true
	for range 10 {
		w.step()
		if st := w.d.Status(); st.Verdict == UnderAttack || len(st.Pending) > 0 {
			t.Fatalf("second %d of the stall: verdict %s attacks %+v pending %v", w.sec, st.Verdict, st.Attacks, st.Pending)
		}
	}
	if len(w.act.applied) != 0 {
		t.Fatalf("a stalled household drew %d mitigations: %+v", len(w.act.applied), w.act.applied[0])
	}
}
