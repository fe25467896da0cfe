package admission

import (
	"net/netip"
	"sync"
	"time"

	"github.com/maypok86/otter/v2"
)

// bucket is a token bucket: tokens left as of last.
type bucket struct {
	tokens float64
	last   time.Time
}

// take refills b for the time since last at rate (per second), up to
// burst, and takes one token. It returns 0 if it took one, else how long
// until one is there. A zero bucket starts full.
func (b *bucket) take(now time.Time, rate float64, burst int) time.Duration {
	if b.last.IsZero() {
		b.tokens, b.last = float64(burst), now
	}
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(float64(burst), b.tokens+d.Seconds()*rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return time.Duration((1 - b.tokens) / rate * float64(time.Second))
}

// ticketLimits bound how fast one address and one network take tickets, so
// that a botnet cannot fill the line with fake places. Each table is
// bounded (otter, least recently used out): a forgotten key starts full
// again, erring on the client's side.
type ticketLimits struct {
	mu     sync.Mutex // guards the buckets' contents
	addrs  *otter.Cache[netip.Addr, *bucket]
	prefix *otter.Cache[netip.Prefix, *bucket]
}

// maxLimitKeys bounds each table of ticketLimits.
const maxLimitKeys = 100000

func newTicketLimits() *ticketLimits {
	return &ticketLimits{
		addrs:  otter.Must(&otter.Options[netip.Addr, *bucket]{MaximumSize: maxLimitKeys}),
		prefix: otter.Must(&otter.Options[netip.Prefix, *bucket]{MaximumSize: maxLimitKeys}),
	}
}

// take takes a ticket token for addr and its network pfx; it returns 0, or
// how long to wait when either is spent (then neither is taken).
func (tl *ticketLimits) take(addr netip.Addr, pfx netip.Prefix, q *queueLimits, now time.Time) time.Duration {
	a := getBucket(tl.addrs, addr)
	p := getBucket(tl.prefix, pfx)
	tl.mu.Lock()
	defer tl.mu.Unlock()
	keepA, keepP := *a, *p
	wa := a.take(now, q.rate, q.burst)
	wp := p.take(now, q.prefixRate, q.prefixBurst)
	if wa > 0 || wp > 0 {
		*a, *p = keepA, keepP
		return max(wa, wp)
	}
	return 0
}

// queueLimits are the ticket limits in force.
type queueLimits struct {
	rate, prefixRate   float64
	burst, prefixBurst int
}

func getBucket[K comparable](c *otter.Cache[K, *bucket], k K) *bucket {
	b, _ := c.Compute(k, func(old *bucket, found bool) (*bucket, otter.ComputeOp) {
		if found {
			return old, otter.CancelOp
		}
		return &bucket{}, otter.WriteOp
	})
	return b
}
