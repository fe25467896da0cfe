// Package degrade turns egress pressure into a degradation level: a Meter
// counts the bytes the edge sends and gives the egress rate, a Controller
// raises or lowers the level with hysteresis, and a Level says how many of
// the top renditions a session loses (docs/admission.md, "Degradation").
//
// The package does no I/O and starts no goroutine: the admission stage
// calls Meter.Add on every body write, and, from its own ticker,
// Controller.Update with Meter.Rate.
package degrade

import (
	"sync"
	"sync/atomic"
	"time"
)

// DefaultWindow is the window a Meter averages over when given none.
const DefaultWindow = 5 * time.Second

// meterSlots is how many samples a Meter keeps over its window: the window
// the rate is averaged over is exact to window/meterSlots.
const meterSlots = 16

// sample is the byte count seen at one instant.
type sample struct {
	at    int64 // Unix nanoseconds
	total int64 // bytes
}

// Meter measures egress: Add counts bytes as they are sent (one atomic
// add, no lock, no allocation), and Rate turns the count into bits per
// second over the last window. Rate keeps samples of the count, so the
// time it is given is the only clock: tests pass a fake one.
//
// A Meter must not be copied after first use. Its zero value is not
// ready: use NewMeter.
type Meter struct {
	total  atomic.Int64 // bytes since creation
	window time.Duration
	step   time.Duration // least time between two samples: window/meterSlots

	mu   sync.Mutex // protects ring, n, head, last
	ring [meterSlots]sample
	n    int     // samples held
	head int     // index of the newest sample
	last float64 // the rate last given, for a call with no time elapsed
}

// NewMeter returns a Meter averaging over window; zero or less means
// DefaultWindow.
func NewMeter(window time.Duration) *Meter {
	if window <= 0 {
		window = DefaultWindow
	}
	return &Meter{window: window, step: max(window/meterSlots, 1)}
}

// Add counts n bytes sent. It is safe for concurrent use and cheap enough
// for every response body write; n <= 0 counts nothing.
func (m *Meter) Add(n int64) {
	if n > 0 {
		m.total.Add(n)
	}
}

// Total returns the bytes counted since the Meter was made.
func (m *Meter) Total() int64 { return m.total.Load() }

// Window returns the window Rate averages over.
func (m *Meter) Window() time.Duration { return m.window }

// Rate returns the egress in bits per second over the window that ends at
// now, and records a sample at now. The first call gives 0. When Rate was
// not called for longer than the window, the average runs from the last
// call; a call at the instant of the previous one gives the same rate.
// When now goes backwards the samples are dropped and counting starts
// again from now.
func (m *Meter) Rate(now time.Time) float64 {
	total, t := m.total.Load(), now.UnixNano()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.n > 0 && t < m.ring[m.head].at {
		m.n = 0 // the clock went back: samples from the future mean nothing
	}
	if m.n == 0 {
		m.recordLocked(t, total)
		return m.last
	}
	base := m.baseLocked(t)
	if dt := t - base.at; dt > 0 {
		m.last = float64(total-base.total) * 8 / time.Duration(dt).Seconds()
	}
	if t-m.ring[m.head].at >= int64(m.step) {
		m.recordLocked(t, total)
	}
	return m.last
}

// baseLocked returns the oldest sample still in the window ending at t,
// or, when all are older, the newest.
func (m *Meter) baseLocked(t int64) sample {
	from := t - int64(m.window)
	for k := m.n - 1; k > 0; k-- { // oldest first
		s := m.ring[(m.head-k+meterSlots)%meterSlots]
		if s.at >= from {
			return s
		}
	}
	return m.ring[m.head]
}

// recordLocked adds a sample, overwriting the oldest when the ring is full.
func (m *Meter) recordLocked(t, total int64) {
	if m.n > 0 {
		m.head = (m.head + 1) % meterSlots
	}
	m.ring[m.head] = sample{at: t, total: total}
	m.n = min(m.n+1, meterSlots)
}
