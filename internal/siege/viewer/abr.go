package viewer

import (
	"time"

	"github.com/rempart/rempart/internal/hls"
)

// throughput estimates the bandwidth to the target from segment downloads,
// as hls.js does: a fast and a slow moving average, trusting the lower, so
// the player is quick to step down and slow to step up.
type throughput struct {
	fast, slow float64 // bits/s
	n          int
}

// EWMA weights of a new sample.
const (
	fastWeight = 0.5
	slowWeight = 0.15
)

// sample adds one download of n bytes that took d (first byte sent to last
// byte read, so the target's latency counts, as it does for a player).
func (t *throughput) sample(n int64, d time.Duration) {
	if n <= 0 {
		return
	}
	bps := float64(n*8) / max(d, time.Millisecond).Seconds()
	if t.n == 0 {
		t.fast, t.slow = bps, bps
	} else {
		t.fast += fastWeight * (bps - t.fast)
		t.slow += slowWeight * (bps - t.slow)
	}
	t.n++
}

// estimate returns the bandwidth to plan with, bits/s (0: no sample yet).
func (t *throughput) estimate() float64 { return min(t.fast, t.slow) }

// choose returns the index of the highest variant (sorted by ascending
// BANDWIDTH) whose BANDWIDTH fits in budget bits/s; the lowest when none
// does.
func choose(vs []*hls.Variant, budget float64) int {
	i := 0
	for j, v := range vs {
		if float64(v.Bandwidth) <= budget {
			i = j
		}
	}
	return i
}

// rate is the bitrate a variant plays at: its average when stated.
func rate(v *hls.Variant) float64 {
	if v.AverageBandwidth > 0 {
		return float64(v.AverageBandwidth)
	}
	return float64(v.Bandwidth)
}
