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
// handshake (and the connection caps) to come back.
const (
	connRate  = 100 // requests per second a connection may sustain
	connBurst = 400 // and burst
)

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
	return context.WithValue(ctx, connBucketKey{}, &connBucket{conn: c, tokens: connBurst})
}

// take spends one request; false when the connection is over its rate, in
// which case it is closed, cutNow saying whether this call closed it.
func (b *connBucket) take(now time.Time) (ok, cutNow bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cut {
		return false, false
	}
	if !b.last.IsZero() {
		b.tokens = min(connBurst, b.tokens+now.Sub(b.last).Seconds()*connRate)
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

// StreamRate refuses requests of a connection over its request rate and
// closes that connection, counting the cut in stats.StreamFloodCut. It
// needs StreamConnContext as the server's ConnContext.
func StreamRate(next http.Handler, stats *ConnStats) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := r.Context().Value(connBucketKey{}).(*connBucket)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		if allowed, cutNow := b.take(time.Now()); !allowed {
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
