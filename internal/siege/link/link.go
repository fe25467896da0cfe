// Package link emulates a shared bottleneck: the uplink an edge sits
// behind, or a region's last mile, that every viewer of a siege downloads
// through. One capacity is shared by all readers, first come first served,
// a chunk at a time, so that a crowd whose demand exceeds it sees what a
// crowd sees on a full link: every download slows down together.
//
// The link is a GCRA (virtual scheduling) token bucket: each chunk read
// books the link for its bytes' transmission time after the chunks booked
// before it, and its reader waits until that booking, less the burst the
// bucket tolerates, has come. Bookings are made under one short lock and
// nothing is queued, so the link holds no goroutine and allocates nothing
// per read.
package link

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Sizing of the bucket and of the readers' turns.
const (
	// MaxChunk is the most bytes one read books at a time: a reader in
	// the middle of a large body goes to the back of the line every 16
	// KiB, so that the readers of a full link share it in turns, as TCP
	// flows sharing a bottleneck roughly do.
	MaxChunk = 16 << 10
	// MinBurst and BurstTime size the bucket: max(MinBurst, capacity ×
	// BurstTime) bytes pass at once after the link was idle, like the
	// buffer of the router in front of a real link.
	MinBurst  = 64 << 10
	BurstTime = 50 * time.Millisecond
	// minSleep: a wait shorter than this is not slept. Its debt stays in
	// the schedule (the next booking waits that much longer), so the
	// capacity holds; on a fast link it saves a timer per read.
	minSleep = time.Millisecond
)

// MaxMbps is the largest capacity New accepts, in Mbit/s (1 Tbit/s).
const MaxMbps = 1e6

// ErrCapacity is wrapped by New's error for a capacity out of range.
var ErrCapacity = errors.New("link capacity out of range")

// Link is one shared bottleneck. It is safe for concurrent use; a nil
// *Link is no link at all (Reserve never waits, NewReader is nil).
type Link struct {
	bytesPerSec float64
	tolerance   time.Duration // the burst, as transmission time

	mu  sync.Mutex // guards tat
	tat time.Time  // when every byte booked so far has passed (GCRA's theoretical arrival time)

	// Stats count what the link carried; read them with Load.
	Stats Stats
}

// Stats are a link's counters.
type Stats struct {
	Bytes  atomic.Int64 // bytes carried (booked)
	Waits  atomic.Int64 // reads held back (slept) because the link was full
	Waited atomic.Int64 // nanoseconds the readers were held back, summed over readers
}

// New returns a link of capacity mbps (Mbit/s, 1 Mbit = 10⁶ bits).
func New(mbps float64) (*Link, error) {
	if !(mbps > 0 && mbps <= MaxMbps) { // also refuses NaN
		return nil, fmt.Errorf("%w: %v Mbit/s: want above 0 and at most %v", ErrCapacity, mbps, MaxMbps)
	}
	l := &Link{bytesPerSec: mbps * 1e6 / 8}
	burst := max(float64(MinBurst), l.bytesPerSec*BurstTime.Seconds())
	l.tolerance = l.cost(burst)
	return l, nil
}

// Mbps returns the link's capacity in Mbit/s; 0 for a nil link.
func (l *Link) Mbps() float64 {
	if l == nil {
		return 0
	}
	return l.bytesPerSec * 8 / 1e6
}

// cost is the time n bytes take on the link.
func (l *Link) cost(n float64) time.Duration {
	return time.Duration(math.Round(n / l.bytesPerSec * float64(time.Second)))
}

// Reserve books the link for n bytes read at now and returns how long the
// reader must wait before it may use them (0: at once). Bookings are
// served in the order Reserve is called.
func (l *Link) Reserve(now time.Time, n int) time.Duration {
	if l == nil || n <= 0 {
		return 0
	}
	c := l.cost(float64(n))
	l.mu.Lock()
	start := l.tat
	if start.Before(now) {
		start = now // idle until now: the bucket refilled
	}
	l.tat = start.Add(c)
	wait := l.tat.Sub(now) - l.tolerance
	l.mu.Unlock()
	l.Stats.Bytes.Add(int64(n))
	return max(wait, 0)
}
