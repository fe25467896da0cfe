package telemetry

import (
	"math"
	"sync/atomic"
	"time"
)

// LatencyBuckets are the upper bounds, in seconds, of the latency histograms.
// Fixed so that observing costs a few atomic adds and no allocation.
var LatencyBuckets = []float64{
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
}

// Histogram is a lock-free latency histogram over LatencyBuckets. The zero
// value is ready to use. The Prometheus adapter reads it with Snapshot.
type Histogram struct {
	counts [16]atomic.Uint64 // one per bucket, then +Inf
	sumNs  atomic.Uint64
	total  atomic.Uint64
}

// Observe adds one duration.
func (h *Histogram) Observe(d time.Duration) {
	s := d.Seconds()
	i := 0
	for i < len(LatencyBuckets) && s > LatencyBuckets[i] {
		i++
	}
	h.counts[i].Add(1)
	if d > 0 {
		h.sumNs.Add(uint64(d))
	}
	h.total.Add(1)
}

// Snapshot returns cumulative bucket counts (keyed by upper bound), the total
// count and the sum in seconds, as Prometheus wants them.
func (h *Histogram) Snapshot() (buckets map[float64]uint64, count uint64, sum float64) {
	buckets = make(map[float64]uint64, len(LatencyBuckets))
	var cum uint64
	for i, ub := range LatencyBuckets {
		cum += h.counts[i].Load()
		buckets[ub] = cum
	}
	count = cum + h.counts[len(LatencyBuckets)].Load()
	sum = float64(h.sumNs.Load()) / 1e9
	if math.IsNaN(sum) {
		sum = 0
	}
	return buckets, count, sum
}
