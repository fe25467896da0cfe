package cache

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/telemetry"
)

// stage is the name the cache records in the request record.
const stage = "cache"

// defaultFetchTimeout bounds a fetch when NewHandler is given none.
const defaultFetchTimeout = 30 * time.Second

// Handler is the cache stage of one site: it answers from the shared Store,
// coalesces misses into one origin fetch per key, serves stale copies within
// their windows and passes what cannot be cached. The route stage before it
// has set the request record's class.
type Handler struct {
	store        *Store
	site         string
	policies     [telemetry.NumClasses]config.Policy
	stripped     [telemetry.NumClasses]config.Policy // policies keeping no query parameter
	fetcher      Fetcher
	fetchTimeout time.Duration
	log          *slog.Logger
	unknown      *unknownGate

	// Learner, when set, is given every playlist the cache stores or
	// revalidates (its path and body), before any waiter is served: the
	// stream catalog learns what the site's playlists list.
	Learner func(path string, body []byte)
	// Listed reports whether a stream of the site lists the object at path
	// (the request's). With it, a miss for an object neither listed nor
	// had by the cache goes in the origin's unknown lane
	// (origin.LaneUnknown) and, for a segment, before the unknown-name
	// gate. nil: every object is known, one lane, no gate. Set it, and the
	// fields below, before the handler serves.
	Listed func(path string) bool
	// InScope reports whether path lies where the stream knows every
	// object that exists; the stream stage judges those, so the
	// unknown-name gate leaves them alone. nil: no path is in scope.
	InScope func(path string) bool
	// NoUnknownGate turns the unknown-name gate off
	// (sites[].unknown_gate: false). Zero: on.
	NoUnknownGate bool
	// shared are the request headers shared fetches carry, canonical and
	// sorted (ShareHeaders); nil: none.
	shared []string
}

var _ http.Handler = (*Handler)(nil)

// NewHandler returns the cache stage for site. policies are the site's
// resolved class policies, f its origin client, fetchTimeout the bound of a
// whole origin fetch (30s if not positive) and logger receives rate-limited
// warnings (nil discards them).
func NewHandler(store *Store, site string, policies [telemetry.NumClasses]config.Policy, f Fetcher, fetchTimeout time.Duration, logger *slog.Logger) *Handler {
	if fetchTimeout <= 0 {
		fetchTimeout = defaultFetchTimeout
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{store: store, site: site, policies: policies, fetcher: f, fetchTimeout: fetchTimeout, log: logger,
		unknown: &unknownGate{}}
	h.stripped = policies
	for i := range h.stripped {
		h.stripped[i].QueryKeep, h.stripped[i].KeepAllQuery = nil, false
	}
	return h
}

// ShareHeaders sets the request headers a shared fetch carries from the
// client (sites[].shared_headers) and returns the list applied: canonical,
// sorted, without duplicates. Each is part of the cache key. Call it before
// the handler serves; nil (the default) carries none.
func (h *Handler) ShareHeaders(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, http.CanonicalHeaderKey(n))
	}
	slices.Sort(out)
	h.shared = slices.Compact(out)
	return h.shared
}

// ServeHTTP answers r from the cache or the origin.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := telemetry.RecordOf(w)
	cls := rec.Class
	if cls >= telemetry.NumClasses {
		cls = telemetry.ClassUnknown
	}
	switch {
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		h.pass(w, r, rec, r.URL.RawQuery, cls == telemetry.ClassAPI, "method")
		return
	case cls == telemetry.ClassAPI && hasCredentials(r):
		h.pass(w, r, rec, r.URL.RawQuery, true, "credentials")
		return
	case cls == telemetry.ClassAPI && personalHeader(r.Header, h.shared):
		h.pass(w, r, rec, r.URL.RawQuery, true, "private_header")
		return
	}
	pol := &h.policies[cls]
	if rec.StripQuery {
		pol = &h.stripped[cls]
	}
	key, target := cacheKey(h.site, r, pol, h.shared)
	now := h.store.now()
	e := h.store.get(key)
	if e != nil && e.fresh(now) {
		h.store.stats.Hits.Add(1)
		h.serveEntry(w, r, rec, e, now, telemetry.OutcomeHit, "")
		return
	}
	h.lookupMiss(w, r, rec, key, target, cls, e, now)
}

// lookupMiss handles a request with no fresh copy: stale while revalidating,
// hit-for-pass, or a flight.
func (h *Handler) lookupMiss(w http.ResponseWriter, r *http.Request, rec *telemetry.Record, key, target string, cls telemetry.Class, stale *entry, now time.Time) {
	if stale != nil && stale.revalidatable(now) {
		h.store.refresh(key, func() *flight { return h.newFlight(r, key, target, cls, rec.ClassFixed, stale) })
		h.store.stats.StaleServed.Add(1)
		h.serveEntry(w, r, rec, stale, now, telemetry.OutcomeStale, "revalidating")
		return
	}
	if h.store.isPass(key) {
		h.store.stats.HitForPass.Add(1)
		h.pass(w, r, rec, queryOf(target), false, "hit_for_pass")
		return
	}
	fetcher, v := h.missFetcher(key, r.URL.Path, cls, now)
	switch v {
	case gateRefuse:
		h.refuseUnknown(w)
		return
	case gateBusy:
		h.store.stats.UnknownBusy.Add(1)
		refuseBusy(w)
		return
	}
	f, fresh, joined, err := h.store.acquire(key, func() *flight {
		f := h.newFlight(r, key, target, cls, rec.ClassFixed, stale)
		f.fetcher = fetcher
		return f
	})
	switch {
	case err != nil:
		h.fallback(w, r, rec, stale, err)
	case fresh != nil:
		h.store.stats.Hits.Add(1)
		h.serveEntry(w, r, rec, fresh, h.store.now(), telemetry.OutcomeHit, "")
	default:
		h.await(w, r, rec, f, stale, joined)
	}
}

// newFlight prepares the shared origin request for key: GET of the
// normalized target, anonymous, with the site's shared headers only (the
// key holds them), conditional when a stale copy has validators.
func (h *Handler) newFlight(r *http.Request, key, target string, cls telemetry.Class, fixed bool, stale *entry) *flight {
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "/", nil)
	req.URL = targetURL(r, queryOf(target))
	req.Header = sharedHeader(r.Header, h.shared)
	if stale != nil && stale.etag != "" {
		req.Header["If-None-Match"] = []string{stale.etag}
	}
	if stale != nil && stale.lastModified != "" {
		req.Header["If-Modified-Since"] = []string{stale.lastModified}
	}
	return &flight{
		s: h.store, key: key, class: cls, fixed: fixed, policies: &h.policies, fetcher: h.fetcher,
		timeout: h.fetchTimeout, req: req, stale: stale, learn: h.Learner,
		changed: make(chan struct{}), length: -1, final: cls,
	}
}
