// Package sched tells whether the process gets the CPU it asks for. Go's
// runtime records how long each goroutine waited between becoming runnable
// and running (runtime/metrics "/sched/latencies:seconds"); an edge with
// CPU to spare runs a goroutine within tens of microseconds, a saturated one
// (its own load, or another process on its cores) keeps it waiting for whole
// time slices. A Gauge reads that histogram once a window and says, with
// hysteresis, whether the CPU is saturated.
package sched

import (
	"math"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// metricName is the runtime's histogram of scheduling latencies.
const metricName = "/sched/latencies:seconds"

// Hysteresis: saturation is said after onWindows windows in a row at or
// above the threshold, and unsaid after offWindows in a row under half of
// it; windows in between keep the state. One slow window is a GC pause or
// a burst, two are load; lifting slowly keeps the state from flapping on
// an edge that sits near its limit.
const (
	onWindows  = 2
	offWindows = 5
	// minSamples: a window with fewer goroutine wakeups says nothing (an
	// idle process), and keeps the state.
	minSamples = 20
	// quantile is what the gauge reads: the tail a viewer's request
	// meets, not the mean.
	quantile = 0.99
)

// DefaultThreshold is the p99 scheduling latency at which the CPU counts as
// saturated when New is given none: a Go time slice (10 ms) is what a
// goroutine waits when every P is busy running others to their slice's end.
const DefaultThreshold = 10 * time.Millisecond

// Reading is one window's account.
type Reading struct {
	P99       time.Duration // the window's 99th percentile scheduling latency
	Samples   uint64        // goroutine wakeups it counted
	Saturated bool          // the state after this window
}

// Gauge reads the scheduler's latency. Update is called by one owner once a
// window; Saturated and P99 may be read from anywhere.
type Gauge struct {
	threshold atomic.Int64 // nanoseconds

	mu     sync.Mutex // serializes Update; guards the fields below
	sample []metrics.Sample
	prev   []uint64 // the histogram's counts at the last Update
	over   int      // windows in a row at or above threshold
	under  int      // windows in a row under threshold/2

	p99       atomic.Int64 // nanoseconds, the last window's
	saturated atomic.Bool
}

// New returns a gauge saying saturated at a p99 of threshold or more
// (DefaultThreshold if threshold ≤ 0). Its first Update reads the
// latencies since the process started.
func New(threshold time.Duration) *Gauge {
	g := &Gauge{sample: []metrics.Sample{{Name: metricName}}}
	g.SetThreshold(threshold)
	return g
}

// SetThreshold changes the latency from which the gauge says saturated
// (DefaultThreshold if threshold ≤ 0), from the next Update on, and
// returns what it applied.
func (g *Gauge) SetThreshold(threshold time.Duration) time.Duration {
	if threshold <= 0 {
		threshold = DefaultThreshold
	}
	g.threshold.Store(int64(threshold))
	return threshold
}

// Update reads the scheduler's histogram and judges the window since the
// last Update.
func (g *Gauge) Update() Reading {
	g.mu.Lock()
	defer g.mu.Unlock()
	metrics.Read(g.sample)
	if g.sample[0].Value.Kind() != metrics.KindFloat64Histogram {
		return Reading{} // a runtime without the metric: never saturated
	}
	return g.updateLocked(g.sample[0].Value.Float64Histogram())
}

// updateLocked judges the counts of h since the last read.
func (g *Gauge) updateLocked(h *metrics.Float64Histogram) Reading {
	if len(g.prev) != len(h.Counts) {
		g.prev = make([]uint64, len(h.Counts))
	}
	delta := make([]uint64, len(h.Counts))
	var n uint64
	for i, c := range h.Counts {
		delta[i] = c - g.prev[i]
		n += delta[i]
	}
	copy(g.prev, h.Counts)
	r := Reading{Samples: n, Saturated: g.saturated.Load()}
	if n < minSamples {
		g.p99.Store(0)
		return r
	}
	r.P99 = time.Duration(upper(h.Buckets, delta, n) * 1e9)
	g.p99.Store(int64(r.P99))
	g.judgeLocked(r.P99)
	r.Saturated = g.saturated.Load()
	return r
}

func (g *Gauge) judgeLocked(p99 time.Duration) {
	threshold := g.Threshold()
	switch {
	case p99 >= threshold:
		g.over, g.under = g.over+1, 0
	case p99 < threshold/2:
		g.over, g.under = 0, g.under+1
	default:
		g.over, g.under = 0, 0
	}
	if g.over >= onWindows {
		g.saturated.Store(true)
	}
	if g.under >= offWindows {
		g.saturated.Store(false)
	}
}

// upper returns the upper bound of the bucket holding the quantile of the
// n samples counted in delta (its lower bound for the last, unbounded
// bucket): the tail is never read shorter than it was.
func upper(bounds []float64, delta []uint64, n uint64) float64 {
	rank := uint64(math.Ceil(quantile * float64(n)))
	var seen uint64
	for i, c := range delta {
		seen += c
		if seen < rank {
			continue
		}
		if hi := bounds[i+1]; !math.IsInf(hi, 1) {
			return hi
		}
		return max(bounds[i], 0)
	}
	return 0
}

// Saturated reports the state of the last Update.
func (g *Gauge) Saturated() bool { return g.saturated.Load() }

// P99 returns the last window's 99th percentile latency; 0 when it counted
// too few wakeups to say.
func (g *Gauge) P99() time.Duration { return time.Duration(g.p99.Load()) }

// Threshold returns the latency at which the gauge says saturated.
func (g *Gauge) Threshold() time.Duration { return time.Duration(g.threshold.Load()) }
