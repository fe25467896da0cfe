package sched

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

// hist builds cumulative histograms over fixed buckets (seconds): each
// window adds counts to the previous ones, as the runtime's does.
type hist struct {
	h metrics.Float64Histogram
}

func newHist() *hist {
	b := []float64{0, 1e-5, 1e-4, 1e-3, 5e-3, 1e-2, 2e-2, 5e-2, 1e-1}
	return &hist{h: metrics.Float64Histogram{Buckets: append(b, inf()), Counts: make([]uint64, len(b))}}
}

func inf() float64 { var z float64; return 1 / z }

// add counts n wakeups that waited in bucket i, and returns the histogram.
func (h *hist) add(counts map[int]uint64) *metrics.Float64Histogram {
	for i, n := range counts {
		h.h.Counts[i] += n
	}
	return &h.h
}

func TestGaugeHysteresis(t *testing.T) {
	g := New(10 * time.Millisecond)
	h := newHist()
	calm := map[int]uint64{0: 980, 1: 20}        // all under 100 µs
	slow := map[int]uint64{0: 900, 1: 50, 6: 50} // 5 % waited 20-50 ms
	edge := map[int]uint64{0: 980, 3: 20}        // p99 in 1-5 ms: neither
	steps := []struct {
		name string
		win  map[int]uint64
		p99  time.Duration
		sat  bool
	}{
		{"calm", calm, 100 * time.Microsecond, false},
		{"one slow window is a pause", slow, 50 * time.Millisecond, false},
		{"two are load", slow, 50 * time.Millisecond, true},
		{"between thresholds keeps the state", edge, 5 * time.Millisecond, true},
		{"calm 1", calm, 100 * time.Microsecond, true},
		{"calm 2", calm, 100 * time.Microsecond, true},
		{"calm 3", calm, 100 * time.Microsecond, true},
		{"calm 4", calm, 100 * time.Microsecond, true},
		{"calm 5 lifts", calm, 100 * time.Microsecond, false},
		{"too few wakeups say nothing", map[int]uint64{8: 5}, 0, false},
	}
	for _, s := range steps {
		r := g.updateLocked(h.add(s.win))
		if r.P99 != s.p99 || r.Saturated != s.sat || g.Saturated() != s.sat || g.P99() != s.p99 {
			t.Fatalf("%s: reading %+v (gauge p99 %v, saturated %v), want p99 %v saturated %v",
				s.name, r, g.P99(), g.Saturated(), s.p99, s.sat)
		}
	}
}

// TestUpperUnboundedBucket: a tail in the last bucket reads as its lower
// bound, never +Inf.
func TestUpperUnboundedBucket(t *testing.T) {
	h := newHist()
	g := New(0)
	if g.Threshold() != DefaultThreshold || g.SetThreshold(-1) != DefaultThreshold {
		t.Fatalf("threshold %v, want the default", g.Threshold())
	}
	r := g.updateLocked(h.add(map[int]uint64{0: 50, 8: 50}))
	if r.P99 != 100*time.Millisecond {
		t.Fatalf("p99 %v, want 100ms (the last bucket's lower bound)", r.P99)
	}
}

// TestGaugeReadsTheRuntime: goroutines that never yield, four per P, keep
// the others (fifty that wake every millisecond, as a server's connections
// do) waiting for whole time slices: the runtime's own histogram says so
// through Update.
func TestGaugeReadsTheRuntime(t *testing.T) {
	if testing.Short() {
		t.Skip("spins the CPU for a second (-short)")
	}
	g := New(time.Millisecond)
	g.Update() // the latencies since the process started
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 * runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					spin()
				}
			}
		})
	}
	for range 50 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(time.Millisecond):
				}
			}
		})
	}
	var worst time.Duration
	for range 3 {
		time.Sleep(300 * time.Millisecond)
		worst = max(worst, g.Update().P99)
	}
	close(stop)
	wg.Wait()
	if worst < time.Millisecond {
		t.Fatalf("p99 %v while every P spun: the gauge does not see the queue", worst)
	}
	t.Logf("p99 under spinning goroutines: %v", worst)
}

// spin burns a little CPU without yielding.
func spin() int {
	n := 0
	for i := range 1 << 16 {
		n += i
	}
	return n
}
