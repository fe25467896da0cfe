package origin

import (
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rempart/rempart/internal/config"
)

// Tuning of the adaptive limit that has no configuration key.
const (
	// gradientFloor bounds one window's cut: the estimate at most halves,
	// and halves outright after a timeout.
	gradientFloor = 0.5
	// smoothing is the weight of one window's verdict in the new estimate,
	// so that one noisy window moves it only halfway.
	smoothing = 0.5
	// probeEvery is how many windows may pass without a clean no-load
	// measurement before a probe pins the gate to MinLimit to take one.
	// Without probes, a limit that always runs at tolerance × the no-load
	// latency would see only loaded windows, forget the true floor, and
	// drift upward (the weak point of Gradient2).
	probeEvery = 30
	// probeSamples quiet round trips end a probe; probeMaxWindows ends
	// one that cannot get them (in-flight requests too slow to drain).
	probeSamples    = 10
	probeMaxWindows = 3
	// noLoadBuckets × noLoadBucketWindows is the no-load latency's memory:
	// a floor is forgotten 45 to 60 windows after it was seen, so the
	// estimate follows an origin that got slower. It spans probes.
	noLoadBuckets       = 4
	noLoadBucketWindows = 15
)

// limiter adapts an origin's gate to the latency it sees, in the manner of
// Netflix's Gradient2. Each window, with short the window's mean time to
// response headers and noLoad the origin's latency without load,
// gradient = tolerance × noLoad / short, and
//
//	gradient < 1:  limit ← limit + smoothing × (limit × max(gradient, 0.5) − limit)
//	otherwise:     limit ← limit + smoothing × √limit
//
// within [MinLimit, MaxConcurrency]; a timeout halves it. √limit is
// headroom that keeps looking for a higher knee. Gradient2 adds it on every
// window; here only while latency is within tolerance, so the limit settles
// where latency is tolerance × noLoad, not above, and a cut can reach a
// MinLimit under 4.
//
// noLoad is the lowest latency of quiet round trips (sent and ended with
// at most MinLimit in flight) over the last minute or so: a window's mean
// of them, or a probe's median. Traffic alone rarely gives quiet ones
// under load, so a probe takes some: at start (a new pool has nothing in
// flight, so it costs little) and after probeEvery windows without, the
// gate is pinned to MinLimit until probeSamples quiet round trips came
// back. A window's mean latency, when lower, is taken as well.
//
// The limiter needs no goroutine: the first sample after a window's end
// closes it, and times are passed in.
type limiter struct {
	minLimit, maxLimit int
	tolerance          float64
	period             time.Duration
	gate               *gate

	mu         sync.Mutex // guards the fields below
	limit      float64    // the estimate; the gate has it rounded
	win        window     // the window in progress
	noLoad     minFilter  // mean latencies, over a long horizon
	sinceClean int        // windows ended since a quiet measurement
	probe      probe      // the probe in progress, if probe.on

	current   atomic.Int64 // the gate's limit now, for metrics
	noLoadRTT atomic.Int64 // noLoad in nanoseconds, for metrics
}

// window accumulates one period's round trips.
type window struct {
	start    time.Time
	sum      time.Duration // of all samples
	n        int
	quietSum time.Duration // of quiet samples
	quietN   int
	peak     int  // most slots held around a sample
	timeouts int  // round trips that timed out before their headers
	probed   bool // a probe ran during the window: its latencies are not the estimate's
}

// probe collects the quiet round trips of a probe.
type probe struct {
	on      bool
	windows int // windows ended since it began
	rtts    [probeSamples]time.Duration
	n       int
}

// newLimiter adapts g between a's bounds and maxLimit, starting at
// a.InitialLimit once a first probe has measured the no-load latency;
// checkUpstream has checked a.
func newLimiter(a config.AdaptiveConcurrency, maxLimit int, g *gate) *limiter {
	l := &limiter{
		minLimit:  min(max(a.MinLimit, 1), maxLimit),
		maxLimit:  maxLimit,
		tolerance: a.Tolerance,
		period:    a.Window,
		gate:      g,
	}
	l.limit = float64(min(max(a.InitialLimit, l.minLimit), maxLimit))
	l.startProbeLocked()
	return l
}

// observe records a round trip that got response headers: it ended at end
// and took rtt, with at most held slots in use when it was sent or when it
// ended (its own included). A window it closes counts the limit's change
// in stats.
func (l *limiter) observe(end time.Time, rtt time.Duration, held int, stats *Stats) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rollLocked(end, stats)
	w := &l.win
	w.sum += rtt
	w.n++
	w.peak = max(w.peak, held)
	if held > l.minLimit {
		return
	}
	if !l.probe.on {
		w.quietSum += rtt
		w.quietN++
		return
	}
	l.probe.rtts[l.probe.n] = rtt
	l.probe.n++
	if l.probe.n == probeSamples {
		l.endProbeLocked()
	}
}

// timeout records a round trip that ran out of time before its headers:
// the strongest sign that the origin is past its knee.
func (l *limiter) timeout(end time.Time, held int, stats *Stats) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rollLocked(end, stats)
	l.win.timeouts++
	l.win.peak = max(l.win.peak, held)
}

// rollLocked ends the window in progress if now is past its period.
func (l *limiter) rollLocked(now time.Time, stats *Stats) {
	if l.win.start.IsZero() {
		l.win.start = now
		return
	}
	if now.Sub(l.win.start) < l.period {
		return
	}
	w := l.win
	l.win = window{start: now, probed: l.probe.on}
	l.endWindowLocked(w, stats)
}

// endWindowLocked learns from a finished window: the no-load latency, the
// new limit, and whether to probe.
func (l *limiter) endWindowLocked(w window, stats *Stats) {
	l.sinceClean++
	if w.quietN > 0 {
		l.learnLocked(w.quietSum / time.Duration(w.quietN))
	}
	if w.n > 0 && !w.probed {
		l.noLoad.add(w.sum / time.Duration(w.n)) // follows an origin that got faster
	}
	l.noLoad.next()
	l.noLoadRTT.Store(int64(l.noLoad.min()))
	if !w.probed || w.timeouts > 0 {
		l.count(l.limit, l.nextLimit(w), stats)
	}
	switch {
	case l.probe.on:
		if l.probe.windows++; l.probe.windows >= probeMaxWindows {
			l.endProbeLocked()
		}
	case l.sinceClean >= probeEvery:
		l.startProbeLocked()
	}
	l.applyLocked()
}

// learnLocked takes d, a mean or median of quiet round trips, as a
// no-load latency.
func (l *limiter) learnLocked(d time.Duration) {
	l.noLoad.add(d)
	l.noLoadRTT.Store(int64(l.noLoad.min()))
	l.sinceClean = 0
}

// startProbeLocked pins the gate to minLimit until enough quiet round
// trips came back.
func (l *limiter) startProbeLocked() {
	l.probe = probe{on: true}
	l.win.probed = true
	l.sinceClean = 0
	l.applyLocked()
}

// endProbeLocked learns the median of the probe's round trips (a slow
// connect or a stall among so few must not set the floor) and gives the
// gate the estimate back.
func (l *limiter) endProbeLocked() {
	if n := l.probe.n; n > 0 {
		rtts := l.probe.rtts[:n]
		slices.Sort(rtts)
		l.learnLocked(rtts[n/2])
	}
	l.probe = probe{}
	l.applyLocked()
}

// nextLimit is the estimate after window w.
func (l *limiter) nextLimit(w window) float64 {
	cur := l.limit
	noLoad := l.noLoad.min()
	switch {
	case w.timeouts > 0:
		return l.clamp(cur * gradientFloor)
	case w.n == 0 || noLoad <= 0:
		return cur
	}
	short := w.sum / time.Duration(w.n)
	gradient := l.tolerance * float64(noLoad) / float64(max(short, 1))
	if gradient < 1 {
		next := cur * max(gradient, gradientFloor)
		return l.clamp(cur + smoothing*(next-cur))
	}
	if float64(2*w.peak) < cur {
		// Under half the limit was used: the window says nothing about
		// whether more would do, and an unused limit must not grow.
		return cur
	}
	return l.clamp(cur + smoothing*math.Sqrt(cur))
}

// count stores next as the estimate and counts a change of its rounding
// in stats.
func (l *limiter) count(prev, next float64, stats *Stats) {
	l.limit = next
	switch p, n := math.Round(prev), math.Round(next); {
	case n > p:
		stats.LimitRaises.Add(1)
	case n < p:
		stats.LimitCuts.Add(1)
	}
}

// clamp bounds an estimate to [minLimit, maxLimit].
func (l *limiter) clamp(v float64) float64 {
	return min(max(v, float64(l.minLimit)), float64(l.maxLimit))
}

// applyLocked sets the gate to the rounded estimate, or to minLimit while
// probing.
func (l *limiter) applyLocked() {
	n := int(math.Round(l.limit))
	if l.probe.on {
		n = l.minLimit
	}
	l.current.Store(int64(l.gate.setLimit(n)))
}

// minFilter is the minimum of the values added over the last
// noLoadBuckets buckets of noLoadBucketWindows windows each; zero when
// nothing was added in that time.
type minFilter struct {
	buckets [noLoadBuckets]time.Duration // 0: empty
	windows int                          // windows ended so far
}

// add offers d to the current bucket.
func (f *minFilter) add(d time.Duration) {
	i := (f.windows / noLoadBucketWindows) % noLoadBuckets
	if b := f.buckets[i]; d > 0 && (b == 0 || d < b) {
		f.buckets[i] = d
	}
}

// next ends a window; entering a new bucket forgets its oldest values.
func (f *minFilter) next() {
	f.windows++
	if f.windows%noLoadBucketWindows == 0 {
		f.buckets[(f.windows/noLoadBucketWindows)%noLoadBuckets] = 0
	}
}

// min returns the smallest value remembered, or 0.
func (f *minFilter) min() time.Duration {
	var m time.Duration
	for _, b := range f.buckets {
		if b > 0 && (m == 0 || b < m) {
			m = b
		}
	}
	return m
}
