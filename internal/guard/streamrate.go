package guard

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
)

// Per-connection request rate. A player asks about one object a second and a
// page load bursts a few dozen; an HTTP/2 rapid-reset or stream flood opens
// thousands a second on one connection, and Go's server runs a handler for
// every stream, reset or not. Such a connection is closed: the whole HTTP/2
// connection dies with its TCP connection, and the attacker pays a new
// handshake (and the connection caps) to come back. The rate and burst are
// shield.conns.request_rate and request_burst.

type connBucketKey struct{}

// connBucket is one connection's request budget and the means to cut it.
type connBucket struct {
	conn net.Conn

	mu     sync.Mutex // guards tokens, last and cut
	tokens float64
	last   time.Time
	cut    bool
}

// StreamConnContext is an http.Server ConnContext hook: it gives every
// connection its request bucket.
func StreamConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connBucketKey{}, &connBucket{conn: c})
}

// take spends one request; false when the connection is over its rate, in
// which case it is closed, cutNow saying whether this call closed it.
func (b *connBucket) take(now time.Time, rate float64, burst int) (ok, cutNow bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cut {
		return false, false
	}
	if b.last.IsZero() {
		b.tokens = float64(burst) // a new connection starts with a full bucket
	} else {
		b.tokens = min(float64(burst), b.tokens+now.Sub(b.last).Seconds()*rate)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, false
	}
	b.cut = true
	b.conn.Close()
	return false, true
}

// StreamRate refuses requests of a connection over rate per second (past
// burst) and closes that connection, counting the cut in
// stats.StreamFloodCut. It needs StreamConnContext as the server's
// ConnContext; rate or burst ≤ 0 disables it.
func StreamRate(next http.Handler, rate float64, burst int, stats *ConnStats) http.Handler {
	if rate <= 0 || burst <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := r.Context().Value(connBucketKey{}).(*connBucket)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		if allowed, cutNow := b.take(time.Now(), rate, burst); !allowed {
			if cutNow && stats != nil {
				stats.StreamFloodCut.Add(1)
			}
			telemetry.Refuse(w, "guard", telemetry.OutcomeRefused, "conn_request_rate",
				http.StatusTooManyRequests, "too many requests on one connection", 1)
			return
		}
		next.ServeHTTP(w, r)
	})
}
