package cache

import (
	"context"
	"net/http"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/rempart/rempart/internal/origin"
	"github.com/rempart/rempart/internal/telemetry"
)

// The table of objects seen: keys whose flight got an object (a status
// under 400) lately, so that an object whose copy has expired, or was never
// stored, stays known. Bounded; an evicted key is judged by Listed again.
const (
	seenTTL     = 10 * time.Minute
	maxSeenKeys = 1 << 16
)

// reasonOriginBusy is what a miss refused by a full unknown lane records.
const reasonOriginBusy = "origin_busy"

// refuseBusy answers a miss whose fetch the origin's unknown lane refused
// (origin.ErrLaneFull): 503, try again in a second.
func refuseBusy(w http.ResponseWriter) {
	telemetry.Refuse(w, stage, telemetry.OutcomeRefused, reasonOriginBusy, http.StatusServiceUnavailable,
		"503 service unavailable: origin busy", 1)
}

// newSeenTable builds the table of keys seen, on clock (nil: otter's).
func newSeenTable(clock otter.Clock) (*otter.Cache[string, struct{}], error) {
	return otter.New(&otter.Options[string, struct{}]{
		MaximumSize:      maxSeenKeys,
		ExpiryCalculator: otter.ExpiryWriting[string, struct{}](seenTTL),
		Clock:            clock,
	})
}

// missFetcher is the fetcher of a flight for a miss of key (path, class
// cls) at now: h.fetcher itself when the site has no Listed hook (one
// lane, nothing to learn), else a laneFetcher in the object's lane. v says
// whether the unknown-name gate lets the miss go (gatePass) or it is to be
// answered locally (gateRefuse: 404, gateBusy: 503).
func (h *Handler) missFetcher(key, path string, cls telemetry.Class, now time.Time) (f Fetcher, v verdict) {
	if h.Listed == nil {
		return h.fetcher, gatePass
	}
	lf := &laneFetcher{next: h.fetcher, store: h.store, key: key, lane: origin.LaneKnown}
	if h.known(key, path) {
		return lf, gatePass
	}
	lf.lane = origin.LaneUnknown
	if h.judged(cls, path) {
		if v := h.unknown.admit(now); v != gatePass {
			return nil, v
		}
		lf.gate = h.unknown
	}
	return lf, gatePass
}

// known reports whether the object at path, cached under key, is known to
// the site: the stream lists it, or the cache has it (fresh or stale, any
// variant) or got it from the origin lately.
func (h *Handler) known(key, path string) bool {
	if h.store.get(key) != nil {
		return true
	}
	if _, ok := h.store.seen.GetIfPresent(key); ok {
		return true
	}
	return h.Listed(path)
}

// judged reports whether a miss for an unknown object of class cls at path
// is one the unknown-name gate judges: a segment outside the stream's
// scope, on a site that did not turn the gate off.
func (h *Handler) judged(cls telemetry.Class, path string) bool {
	return cls == telemetry.ClassSegment && !h.NoUnknownGate && (h.InScope == nil || !h.InScope(path))
}

// laneFetcher sends a flight's fetch in its lane and learns from the
// answer: an object found is seen, and a judged miss's status feeds the
// unknown-name gate.
type laneFetcher struct {
	next  Fetcher
	store *Store
	key   string
	lane  origin.Lane
	gate  *unknownGate // nil: the miss is not judged
}

// Fetch implements Fetcher.
func (f *laneFetcher) Fetch(ctx context.Context, req *http.Request) (*http.Response, error) {
	if f.gate != nil {
		f.gate.sent()
	}
	resp, err := f.next.Fetch(origin.WithLane(ctx, f.lane), req)
	if err != nil {
		if f.gate != nil {
			f.gate.answered()
		}
		return nil, err
	}
	if resp.StatusCode < http.StatusBadRequest {
		f.store.seen.Set(f.key, struct{}{})
	}
	if f.gate != nil {
		f.gate.observe(f.store.now(), resp.StatusCode)
	}
	return resp, nil
}
