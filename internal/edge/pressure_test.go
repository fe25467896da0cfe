package edge

import (
	"math"
	"testing"

	"github.com/rempart/rempart/internal/detect"
)

// TestPressureFollowsSolvers: calm seconds learn 10 newcomers a second.
// An attack whose bots do not solve leaves the difficulty at rest, and so
// does a crowd solving at a few times the calm rate; bots solving by the
// hundred a second drive it to the maximum, and it falls back once they
// stop.
func TestPressureFollowsSolvers(t *testing.T) {
	var g pressureGauge
	solved := uint64(0)
	second := func(v detect.Verdict, newSources float64, solves int) float64 {
		solved += uint64(solves)
		return g.update(detect.Status{Verdict: v, Evidence: detect.Evidence{NewSources: newSources}}, solved)
	}
	for range 300 {
		if p := second(detect.Normal, 10, 0); p != 0 {
			t.Fatalf("calm: pressure %v", p)
		}
	}
	for range 60 {
		// Bots refused with a 403 they never solve; viewers arriving
		// meanwhile solve at the usual rate. The attack's own new
		// sources are not learned.
		if p := second(detect.UnderAttack, 5000, 10); p != 0 {
			t.Fatalf("attack with no solving bot: pressure %v", p)
		}
	}
	for range 30 {
		if p := second(detect.UnderAttack, 40, 30); p != 0 {
			t.Fatalf("a crowd of 30 solves a second (3× calm arrivals): pressure %v", p)
		}
	}
	var p float64
	for range 30 {
		p = second(detect.UnderAttack, 5000, 600)
	}
	if p != 1 {
		t.Fatalf("600 solves a second: pressure %v, want 1", p)
	}
	for range 30 {
		p = second(detect.UnderAttack, 5000, 10)
	}
	if p != 0 {
		t.Fatalf("solvers gone: pressure %v, want 0", p)
	}
	if p := second(detect.Normal, math.NaN(), 0); p != 0 || math.IsNaN(g.arrivals) {
		t.Fatalf("NaN newcomers: pressure %v, arrivals %v", p, g.arrivals)
	}
}
