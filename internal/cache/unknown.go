package cache

import (
	"net/http"
	"sync"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
)

// Tuning of the unknown-name gate, with no configuration key.
const (
	// unknownWindow is the span over which judged misses are counted, as
	// two halves: the one in progress and the one before.
	unknownWindow = 30 * time.Second
	// unknownMinMisses judged misses at least, unknownNotFound of them
	// (in tenths) answered 404 or 410, close the gate.
	unknownMinMisses = 16
	unknownNotFound  = 9
	// unknownProbeEvery is how often a closed gate still lets one judged
	// miss through to the origin, so that it sees objects appear.
	unknownProbeEvery = time.Second
	// unknownQuiet without judged misses reopens a closed gate.
	unknownQuiet = 30 * time.Second
	// unknownInFlight bounds the judged misses at the origin at once
	// while the gate is open: a burst of made-up names (a botnet's first
	// second) waits for the evidence of the first ones rather than all
	// reach the origin before the gate can close. Beyond it: 503, retry.
	unknownInFlight = unknownMinMisses
)

// reasonUnknownName is what a request refused by the gate records.
const reasonUnknownName = "unknown_name"

// bodyUnknownName is the local 404's body.
const bodyUnknownName = "404 not found: no stream lists this object"

// unknownGate is one site's unknown-name gate. It watches judged misses
// (segments outside the stream's scope, unknown to the cache and to the
// stream, see Handler.judged): while nearly all of them get 404 or 410
// from the origin, they are answered 404 locally, at no origin cost, but
// for one probe a second. A flood of made-up names then costs the origin
// a request a second, and a name that starts to exist is found within a
// second of its first request.
type unknownGate struct {
	mu        sync.Mutex  // guards the fields below
	closed    bool        // judged misses are answered locally, but for probes
	halves    [2]outcomes // the half-window in progress, and the one before
	halfStart time.Time   // start of halves[0]
	lastMiss  time.Time   // the last judged miss, answered or refused
	lastProbe time.Time   // the last judged miss let through while closed
	inFlight  int         // judged misses sent to the origin, not answered yet
}

// verdict is what the gate says of one judged miss.
type verdict uint8

const (
	gatePass   verdict = iota // send it to the origin
	gateRefuse                // answer 404 locally: a flood of made-up names
	gateBusy                  // answer 503: too many undecided at the origin already
)

// outcomes counts judged misses answered by the origin.
type outcomes struct{ misses, notFound int }

// admit says whether a judged miss at now may go to the origin.
func (g *unknownGate) admit(now time.Time) verdict {
	g.mu.Lock()
	defer g.mu.Unlock()
	quiet := now.Sub(g.lastMiss) >= unknownQuiet
	g.lastMiss = now
	switch {
	case !g.closed && g.inFlight >= unknownInFlight:
		return gateBusy
	case !g.closed:
		return gatePass
	case quiet:
		g.openLocked()
		return gatePass
	case now.Sub(g.lastProbe) >= unknownProbeEvery:
		g.lastProbe = now
		return gatePass
	}
	return gateRefuse
}

// sent counts a judged miss going to the origin; answered (or observe)
// counts it back.
func (g *unknownGate) sent() {
	g.mu.Lock()
	g.inFlight++
	g.mu.Unlock()
}

func (g *unknownGate) answered() {
	g.mu.Lock()
	g.inFlight = max(g.inFlight-1, 0)
	g.mu.Unlock()
}

// observe learns the origin's status for a judged miss at now: the gate
// closes on a flood of 404/410, and reopens when an object is found. A 5xx
// counts for nothing.
func (g *unknownGate) observe(now time.Time, status int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inFlight = max(g.inFlight-1, 0)
	if g.closed {
		if status < http.StatusBadRequest {
			g.openLocked()
		}
		return
	}
	if status >= http.StatusInternalServerError {
		// The origin did not say whether the name exists (an overloaded
		// one answers 503): no evidence either way.
		return
	}
	g.rollLocked(now)
	g.halves[0].misses++
	if status == http.StatusNotFound || status == http.StatusGone {
		g.halves[0].notFound++
	}
	misses := g.halves[0].misses + g.halves[1].misses
	notFound := g.halves[0].notFound + g.halves[1].notFound
	if misses >= unknownMinMisses && 10*notFound >= unknownNotFound*misses {
		g.closed, g.lastProbe = true, now
	}
}

// rollLocked starts a new half-window when now is past the current one.
func (g *unknownGate) rollLocked(now time.Time) {
	switch elapsed := now.Sub(g.halfStart); {
	case elapsed >= unknownWindow:
		g.halves = [2]outcomes{}
		g.halfStart = now
	case elapsed >= unknownWindow/2:
		g.halves[1], g.halves[0] = g.halves[0], outcomes{}
		g.halfStart = now
	}
}

// openLocked reopens the gate and forgets what it counted.
func (g *unknownGate) openLocked() {
	g.closed = false
	g.halves = [2]outcomes{}
}

// refuseUnknown answers a judged miss the gate refused: 404, tiny, counted.
func (h *Handler) refuseUnknown(w http.ResponseWriter) {
	h.store.stats.UnknownRefused.Add(1)
	telemetry.Refuse(w, stage, telemetry.OutcomeRefused, reasonUnknownName, http.StatusNotFound, bodyUnknownName, 0)
}
