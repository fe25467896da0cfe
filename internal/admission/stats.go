package admission

import (
	"sync/atomic"
	"time"
)

// Stats are a room's counters, as plain atomics for the metrics adapter.
type Stats struct {
	Direct    atomic.Uint64 // newcomers admitted at once
	Tickets   atomic.Uint64 // tickets given
	Granted   atomic.Uint64 // places granted to tickets
	Redeemed  atomic.Uint64 // granted places taken (sessions from tickets)
	Abandoned atomic.Uint64 // tickets dropped: not presented for abandon_after
	Expired   atomic.Uint64 // granted places not taken within grant_hold
	Ended     atomic.Uint64 // sessions ended (idle or too old)
	Resumed   atomic.Uint64 // ended sessions presented again (they queue anew)
	Limited   atomic.Uint64 // tickets refused by the per-client ticket rate
	Full      atomic.Uint64 // newcomers turned away: the line was full
	// Refused counts refusals by reason (see Reasons).
	Refused [numReasons]atomic.Uint64
}

// reason is why a gated request is refused.
type reason uint8

const (
	reasonForgedTicket reason = iota
	reasonTicketUsed
	reasonTicketElsewhere
	reasonForgedSession
	reasonSessionElsewhere
	reasonAccountLimit
	reasonTokenRequired
	reasonBadToken
	reasonTokenScope
	numReasons
)

var reasonNames = [numReasons]string{
	reasonForgedTicket:     "forged_ticket",
	reasonTicketUsed:       "ticket_used",
	reasonTicketElsewhere:  "ticket_elsewhere",
	reasonForgedSession:    "forged_session",
	reasonSessionElsewhere: "session_elsewhere",
	reasonAccountLimit:     "account_limit",
	reasonTokenRequired:    "token_required",
	reasonBadToken:         "bad_token",
	reasonTokenScope:       "token_scope",
}

// Reasons lists the refusal reasons, indexed as Stats.Refused.
func Reasons() []string { return reasonNames[:] }

func (r reason) String() string { return reasonNames[r] }

// Snapshot is a room's state at one time, for metrics, the admin API and
// the status page.
type Snapshot struct {
	Site     string   `json:"site"`
	Capacity Capacity `json:"capacity"`
	// Sessions is the number of places taken.
	Sessions int `json:"sessions"`
	// Waiting is the number of tickets in line (and in the pre-queue).
	Waiting int `json:"waiting"`
	// Granted is the number of places granted and not yet taken.
	Granted int `json:"granted"`
	// DepartureRate is places freed per second over the last 15 s or so
	// (see departureWindow).
	DepartureRate float64 `json:"departure_rate"`
	// Wait is the estimated wait of a newcomer, in seconds; -1 unknown (the
	// life table has not seen enough of its sessions' lifetimes yet).
	Wait float64 `json:"wait_seconds"`
	// Level is the degradation level (0: every rendition offered).
	Level int `json:"degradation_level"`
	// Egress is the measured egress, Mbit/s.
	Egress float64 `json:"egress_mbps"`
	// Admissions is the count of sessions ever admitted.
	Admissions uint64 `json:"admissions"`
}

// Snapshot returns the room's state at now.
func (r *Room) Snapshot(now time.Time) Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Snapshot{
		Site: r.site, Capacity: r.capacity, Sessions: r.ses.count(),
		Waiting: r.waitingLocked(), Granted: r.granted,
		DepartureRate: r.departed.rate(now), Admissions: r.nextSeq,
		Level: r.egress.level(), Egress: r.egress.mbps(now),
	}
	w := r.estimateLocked(r.line.live+1, now)
	s.Wait = -1
	if w >= 0 {
		s.Wait = w.Seconds()
	}
	return s
}

// Stats returns the room's counters.
func (r *Room) Stats() *Stats { return &r.stats }
