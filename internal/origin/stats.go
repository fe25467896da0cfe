package origin

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
)

// Stats are a Pool's counters: plain atomics, read by the metrics adapter.
// Requests are counted per attempt, so a retried 503 followed by a 200
// counts one Status5xx, one Status2xx and one Retries.
type Stats struct {
	// Status2xx to Status5xx count origin responses by status class.
	Status2xx, Status3xx, Status4xx, Status5xx atomic.Uint64
	// Errors counts attempts that got no response: connection errors and
	// timeouts before the headers.
	Errors atomic.Uint64
	// ClientBodyErrors counts attempts that failed while reading the
	// caller's request body (ErrClientBody); they are not in Errors.
	ClientBodyErrors atomic.Uint64
	// Retries counts attempts beyond a fetch's first.
	Retries atomic.Uint64
	// Overloaded counts fetches refused with ErrOverloaded.
	Overloaded atomic.Uint64
	// LaneRefused counts fetches refused with ErrLaneFull (the unknown
	// lane's queue was full).
	LaneRefused atomic.Uint64
	// BreakerRejected counts fetches refused with ErrBreakerOpen.
	BreakerRejected atomic.Uint64
	// InFlight is the number of origin slots held now, all origins together:
	// from the request until its response body is closed or fully read.
	InFlight atomic.Int64
	// Latency is the time from sending a request to its response headers.
	Latency telemetry.Histogram
	// LimitRaises and LimitCuts count the times an adaptive concurrency
	// limit (Upstream.Adaptive) rose or fell, all origins together; a
	// probe of the no-load latency is neither.
	LimitRaises, LimitCuts atomic.Uint64
}

// countStatus adds one response to its status class; other codes (1xx,
// nonsense) are not counted.
func (s *Stats) countStatus(code int) {
	switch code / 100 {
	case 2:
		s.Status2xx.Add(1)
	case 3:
		s.Status3xx.Add(1)
	case 4:
		s.Status4xx.Add(1)
	case 5:
		s.Status5xx.Add(1)
	}
}

// countRefusal counts a fetch that got no slot, by why.
func (s *Stats) countRefusal(err error) {
	switch {
	case errors.Is(err, ErrOverloaded):
		s.Overloaded.Add(1)
	case errors.Is(err, ErrLaneFull):
		s.LaneRefused.Add(1)
	}
}

// BreakerState is an origin's circuit breaker state, exported as a gauge.
type BreakerState int

// Breaker states; the values are stable so they can be exported as numbers.
const (
	// BreakerClosed: requests flow.
	BreakerClosed BreakerState = iota
	// BreakerHalfOpen: the cooldown is over; one probe request may pass.
	BreakerHalfOpen
	// BreakerOpen: requests are refused until the cooldown ends.
	BreakerOpen
)

// String returns "closed", "half-open" or "open".
func (s BreakerState) String() string {
	switch s {
	case BreakerClosed:
		return "closed"
	case BreakerHalfOpen:
		return "half-open"
	case BreakerOpen:
		return "open"
	}
	return "unknown"
}

// OriginState is one origin as the metrics and status pages see it.
type OriginState struct {
	// URL is the configured base URL.
	URL string
	// Breaker is the breaker's current state.
	Breaker BreakerState
	// InFlight is the number of this origin's slots held now.
	InFlight int64
}

// OriginLimit is one origin's concurrency limit as the metrics see it.
type OriginLimit struct {
	// URL is the configured base URL.
	URL string
	// Limit is the most requests the origin may have in flight now:
	// MaxConcurrency, or the adaptive limit when Upstream.Adaptive is on.
	Limit int64
	// NoLoadRTT is the adaptive limiter's estimate of the origin's latency
	// without load (time to response headers). Zero when the limit is not
	// adaptive or nothing was measured yet.
	NoLoadRTT time.Duration
}

// Limits returns each origin's concurrency limit, in configuration order.
// It allocates one small slice and reads atomics (or takes a static gate's
// lock briefly): cheap enough for every metrics scrape.
func (p *Pool) Limits() []OriginLimit {
	out := make([]OriginLimit, len(p.origins))
	for i, u := range p.origins {
		limit, noLoad := u.limit()
		out[i] = OriginLimit{URL: u.url, Limit: limit, NoLoadRTT: noLoad}
	}
	return out
}
