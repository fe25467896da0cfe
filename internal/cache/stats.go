package cache

import (
	"log/slog"
	"sync/atomic"
	"time"
)

// Stats are the cache's counters: plain atomics, read by the metrics adapter
// (no metrics library in this package). Every counter only grows.
type Stats struct {
	// Hits counts requests served from a fresh stored copy.
	Hits atomic.Uint64
	// Inserts counts objects written to the store (new or replacing).
	Inserts atomic.Uint64
	// Evictions counts objects pushed out to stay under MaxBytes.
	Evictions atomic.Uint64
	// Expirations counts objects dropped at the end of their last stale window.
	Expirations atomic.Uint64
	// OriginFetches counts flights started: shared origin fetches, including
	// background refreshes (passes are not counted here).
	OriginFetches atomic.Uint64
	// Revalidations counts flights answered 304 that refreshed a stored copy.
	Revalidations atomic.Uint64
	// OriginErrors counts flights that failed: network error, timeout or 5xx.
	OriginErrors atomic.Uint64
	// Coalesced counts requests that joined another request's flight.
	Coalesced atomic.Uint64
	// StaleServed counts responses served from a stale copy, for any reason.
	StaleServed atomic.Uint64
	// BackgroundRefreshes counts stale-while-revalidate refreshes started.
	BackgroundRefreshes atomic.Uint64
	// Passes counts requests passed to the origin uncached and uncoalesced.
	Passes atomic.Uint64
	// HitForPass counts passes decided by a hit-for-pass mark (the key's last
	// answer could not be shared).
	HitForPass atomic.Uint64
	// NotStored counts complete origin answers that were not stored (private,
	// no-store, Set-Cookie, Vary, no freshness, status not cacheable, too big).
	NotStored atomic.Uint64
	// WaitTimeouts counts waiters that got no response headers within
	// WaitTimeout.
	WaitTimeouts atomic.Uint64
	// Aborted counts client responses cut short because the origin transfer
	// failed after headers were sent (the client sees a truncated transfer).
	Aborted atomic.Uint64
	// PlaylistRefreshFailures counts failed origin fetches of media playlists:
	// viewers then get the last good copy, within its bound, or an error.
	PlaylistRefreshFailures atomic.Uint64
	// PlaylistStaleServed counts media playlists served stale because the
	// origin failed or was too slow.
	PlaylistStaleServed atomic.Uint64
	// PlaylistTooOld counts media playlist requests answered with an error
	// because the only copy was older than its stale bound (one target
	// duration by default): a frozen live stream.
	PlaylistTooOld atomic.Uint64

	// UnknownRefused counts segment misses the unknown-name gate answered
	// 404 itself: names no stream lists while the origin had none of them.
	UnknownRefused atomic.Uint64
	// UnknownBusy counts such misses answered 503 while the gate, still
	// open, waited for the origin's answers to those already sent.
	UnknownBusy atomic.Uint64

	objects func() int
	bytes   func() uint64
}

// Objects returns the number of objects in the store (an estimate: expired
// objects not yet swept may be counted).
func (s *Stats) Objects() int {
	if s.objects == nil {
		return 0
	}
	return s.objects()
}

// Bytes returns the weight of the store: bodies, keys and a header estimate.
func (s *Stats) Bytes() uint64 {
	if s.bytes == nil {
		return 0
	}
	return s.bytes()
}

// logLimiter lets at most one line per interval through, across all callers,
// and counts the lines it held back, so a failing origin under load costs a
// log line a second, not one per request.
type logLimiter struct {
	interval   time.Duration
	last       atomic.Int64 // unix nanoseconds of the last line written
	suppressed atomic.Uint64
}

// warn logs msg with args unless a line was written less than interval ago.
func (l *logLimiter) warn(log *slog.Logger, now time.Time, msg string, args ...any) {
	last := l.last.Load()
	if now.UnixNano()-last < int64(l.interval) || !l.last.CompareAndSwap(last, now.UnixNano()) {
		l.suppressed.Add(1)
		return
	}
	if n := l.suppressed.Swap(0); n > 0 {
		args = append(args, "suppressed", n)
	}
	log.Warn(msg, args...)
}
