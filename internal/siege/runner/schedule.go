package runner

import (
	"math"
	"time"

	"github.com/rempart/rempart/internal/siege/scenario"
)

// arrivals is the open-model schedule of one population in one phase: the
// k-th client (from 0) is due when the expected count, the integral of the
// rate from the phase's start, reaches k + ½. Due times depend only on the
// clock, never on how the target answers.
type arrivals struct {
	pop      int
	from     float64 // clients per second at the phase's start
	slope    float64 // change of rate per second
	n        int64   // clients in the phase
	next     int64   // the next client to start
	duration time.Duration
}

func newArrivals(a scenario.Arrival, d time.Duration) *arrivals {
	secs := d.Seconds()
	total := (a.From + a.To) / 2 * secs
	return &arrivals{
		pop:      a.Pop,
		from:     a.From,
		slope:    (a.To - a.From) / secs,
		n:        int64(math.Floor(total + 0.5)),
		duration: d,
	}
}

// at returns when, from the phase's start, client k is due. It solves
// from·t + slope·t²/2 = k + ½ in a form that stays exact for a constant
// rate and a falling ramp.
func (a *arrivals) at(k int64) time.Duration {
	x := float64(k) + 0.5
	disc := a.from*a.from + 2*a.slope*x
	den := a.from + math.Sqrt(max(disc, 0))
	if den <= 0 {
		return a.duration
	}
	t := time.Duration(2 * x / den * float64(time.Second))
	return min(t, a.duration)
}

// done reports whether every client of the phase has been started.
func (a *arrivals) done() bool { return a.next >= a.n }
