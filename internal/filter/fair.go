package filter

import (
	"math"
	"net/netip"
	"time"
)

// A saturated edge cannot serve everyone: whoever asks fastest takes the
// CPU, and a flood of cheap requests (cache hits of what players fetch,
// from a few hundred addresses) starves the viewers of it, mitigated or
// not, until the detector blocks it seconds later. While the CPU is
// saturated the edge shares what it serves fairly instead: each source
// may take a few times the mean rate per source, and what it asks beyond
// is refused at once, before any cache or origin work (429, Retry-After).
// Viewers, and objects a playlist lists asked at a player's pace, are
// never refused so (see costless): they are what the edge is for.

// The bounds of a share.
const (
	// minFairRate is the least a source may ask a second: a player's
	// pace, switching renditions.
	minFairRate = 2.0
	// minFairBurst: a page, or a player joining (master, media playlists,
	// the first segments, perhaps of two renditions), asks a few objects
	// at once, before the stream stage knows them listed.
	minFairBurst = 16.0
)

// fairShare is the share in force; immutable once stored.
type fairShare struct {
	rate, burst float64   // each source's requests a second, and burst
	keys        *keyTable // each source's bucket, by address
}

// take takes a token from addr's bucket, returning how long until one is
// there when none is.
func (f *fairShare) take(addr netip.Addr, now int64) time.Duration {
	return f.keys.take(addrKey(addr), now, f.rate, f.burst)
}

// FairRate is each source's share when the edge serves rate requests a
// second to sources distinct sources: share times the mean, at least a
// player's pace. It is 0 (no share) when either is unknown.
func FairRate(rate, sources, share float64) float64 {
	if !(rate > 0) || !(sources >= 1) || !(share > 0) || math.IsInf(rate, 0) {
		return 0
	}
	return max(share*rate/sources, minFairRate)
}

// SetFairShare puts every source under rate requests a second, the excess
// refused with ReasonBusy; rate ≤ 0 lifts the share. It returns the rate
// applied (clamped up to minFairRate, 0 when lifted). The edge calls it
// every second with what its CPU allows; the sources' buckets are kept
// from one call to the next.
func (s *Shield) SetFairShare(rate float64) float64 {
	if !(rate > 0) || math.IsInf(rate, 0) {
		s.fair.Store(nil)
		return 0
	}
	rate = max(rate, minFairRate)
	s.mu.Lock()
	keys := s.fairKeys
	s.mu.Unlock()
	s.fair.Store(&fairShare{rate: rate, burst: max(rate, minFairBurst), keys: keys})
	return rate
}

// FairShare returns each source's rate under the share in force; 0 when
// the edge has CPU to spare.
func (s *Shield) FairShare() float64 {
	if f := s.fair.Load(); f != nil {
		return f.rate
	}
	return 0
}
