package edge

import (
	"math"

	"github.com/rempart/rempart/internal/detect"
)

// The challenge's difficulty follows the bots that solve it. A bot that
// runs no JavaScript fails at any difficulty, so while solutions come in
// no faster than viewers arrive the puzzle stays at its resting difficulty
// (a fraction of a second on a phone). When solutions come in far faster
// than the newcomers of calm seconds, someone is paying for clearances by
// the thousand: each bit doubles their bill, and the viewers', so the
// difficulty rises only with that excess.
const (
	// solveSmoothing is the weight of each second in the solve rate (≈5 s).
	solveSmoothing = 0.2
	// arrivalSmoothing is the weight of each calm second in the newcomer
	// rate (≈1 min).
	arrivalSmoothing = 1.0 / 60
	// solveSlack is how many times the calm newcomer rate solutions may
	// reach before the difficulty rises (a crowd arriving in attack mode
	// solves too), and solveFloor the solves a second always tolerated.
	solveSlack = 3.0
	solveFloor = 5.0
	// solveSpan is how far past the tolerated rate, in tolerated rates,
	// the difficulty reaches its maximum.
	solveSpan = 10.0
)

// pressureGauge turns the detector's verdict and the challenge's solve
// count into the challenge's pressure, 0 (resting difficulty) to 1 (max).
// Used by the shield's tick goroutine alone.
type pressureGauge struct {
	solved    uint64  // the solve counter at the last update
	solveRate float64 // solves a second, smoothed
	arrivals  float64 // new sources a second in calm seconds, smoothed
	started   bool
}

// update reads one second: st, the detector's status, and solved, the
// challenge's running count of accepted solutions.
func (g *pressureGauge) update(st detect.Status, solved uint64) float64 {
	if !g.started {
		g.started, g.solved = true, solved
	}
	perSec := float64(solved - g.solved)
	g.solved = solved
	g.solveRate += solveSmoothing * (perSec - g.solveRate)
	if st.Verdict == detect.Normal || st.Verdict == detect.FlashCrowd {
		if n := st.Evidence.NewSources; n >= 0 && !math.IsInf(n, 0) {
			g.arrivals += arrivalSmoothing * (n - g.arrivals)
		}
	}
	tolerated := solveSlack*g.arrivals + solveFloor
	return min(max((g.solveRate-tolerated)/(solveSpan*tolerated), 0), 1)
}
