package telemetry

import (
	"sync/atomic"
	"time"
)

// Stats counts finished requests by class and outcome. Observing costs a few
// atomic adds; the Prometheus adapter and the live panel read it.
type Stats struct {
	requests [NumClasses][NumOutcomes]atomic.Uint64
	bytes    [NumClasses]atomic.Uint64
	latency  [NumClasses]Histogram
	// Viewers tracks distinct clients recently fetching live media.
	Viewers *Viewers
}

// NewStats returns empty statistics whose viewer table holds at most
// maxViewers clients, each counted for window after its last live request.
func NewStats(maxViewers int, window time.Duration) *Stats {
	return &Stats{Viewers: NewViewers(maxViewers, window)}
}

// Observe counts one finished request.
func (s *Stats) Observe(r *Record, now time.Time) {
	c, o := r.Class, r.Outcome
	if c >= NumClasses {
		c = ClassUnknown
	}
	if o >= NumOutcomes {
		o = OutcomeNone
	}
	s.requests[c][o].Add(1)
	s.bytes[c].Add(uint64(r.Bytes))
	s.latency[c].Observe(now.Sub(r.Start))
	if (c == ClassMedia || c == ClassSegment) && r.Client.IsValid() && r.ServedObject() {
		s.Viewers.Seen(r.Client, now)
	}
}

// Requests returns how many requests of class c ended with outcome o.
func (s *Stats) Requests(c Class, o Outcome) uint64 { return s.requests[c][o].Load() }

// Bytes returns the body bytes sent for class c.
func (s *Stats) Bytes(c Class) uint64 { return s.bytes[c].Load() }

// Latency returns the edge latency histogram for class c (time to the end of
// the response).
func (s *Stats) Latency(c Class) *Histogram { return &s.latency[c] }

// Totals sums requests over all classes: all of them, those served from
// cache (hit, stale, coalesced) and those that needed the origin (miss,
// pass). Requests without a class (refused before routing, the edge's own
// pages) count only in all.
func (s *Stats) Totals() (all, cached, origin uint64) {
	for c := range NumClasses {
		for o := range NumOutcomes {
			n := s.requests[c][o].Load()
			all += n
			if c == ClassUnknown {
				continue
			}
			switch o {
			case OutcomeHit, OutcomeStale, OutcomeCoalesced:
				cached += n
			case OutcomeMiss, OutcomePass:
				origin += n
			}
		}
	}
	return all, cached, origin
}
