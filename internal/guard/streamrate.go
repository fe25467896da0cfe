package guard

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
)

// Per-connection request rate. A player asks about one object a second and
// a page load bursts a few dozen; an HTTP/2 stream flood opens thousands a
// second on one connection, and Go's server runs a handler for every
// stream. Such a connection is closed: the whole HTTP/2 connection dies
// with its TCP connection, and the attacker pays a new handshake (and the
// connection caps) to come back. Cancelled streams (rapid reset) are
// counted below HTTP, as frames arrive (H2Listener, ServeH2TLS): a handler
// runs too late to stop them.

type connBucketKey struct{}

// bucket is a token bucket that starts full.
type bucket struct {
	tokens float64
	last   time.Time
}

// take spends one token; false when there is none.
func (b *bucket) take(now time.Time, rate float64, burst int) bool {
	if b.last.IsZero() {
		b.tokens = float64(burst)
	} else {
		b.tokens = min(float64(burst), b.tokens+now.Sub(b.last).Seconds()*rate)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

// connBudget is one connection's request budget and the means to cut it.
type connBudget struct {
	conn net.Conn

	mu       sync.Mutex // guards requests and cut
	requests bucket
	cut      bool
}

// StreamConnContext is an http.Server ConnContext hook: it gives every
// connection its request budget.
func StreamConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connBucketKey{}, &connBudget{conn: c})
}

// spend takes one request; when there is none the connection is closed,
// counted in stats first, so whoever sees it closed sees it counted.
func (c *connBudget) spend(now time.Time, rate float64, burst int, stats *ConnStats) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cut {
		return false
	}
	if c.requests.take(now, rate, burst) {
		return true
	}
	c.cut = true
	stats.StreamFloodCut.Add(1)
	c.conn.Close()
	return false
}

// StreamRate refuses requests of a connection over rate per second (past
// burst) and closes that connection, counting the cut in
// stats.StreamFloodCut. An HTTP/2 stream the client cancelled before its
// handler ran is not served at all: nobody is left to read the answer. It
// needs StreamConnContext as the server's ConnContext; rate or burst ≤ 0
// disables it.
func StreamRate(next http.Handler, rate float64, burst int, stats *ConnStats) http.Handler {
	if rate <= 0 || burst <= 0 {
		return next
	}
	if stats == nil {
		stats = new(ConnStats)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := r.Context().Value(connBucketKey{}).(*connBudget)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		if r.ProtoMajor == 2 && r.Context().Err() != nil {
			return
		}
		if !c.spend(time.Now(), rate, burst, stats) {
			telemetry.Refuse(w, "guard", telemetry.OutcomeRefused, "conn_request_rate",
				http.StatusTooManyRequests, "too many requests on one connection", 1)
			return
		}
		next.ServeHTTP(w, r)
	})
}
