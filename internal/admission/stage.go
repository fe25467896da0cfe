package admission

import (
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/rempart/rempart/internal/httplang"
	"github.com/rempart/rempart/internal/telemetry"
)

// StageName is the stage recorded in telemetry for what admission decides.
const StageName = "admission"

// StatusPath is where a ticket holder (the waiting page) asks for its turn.
const StatusPath = "/_rempart/queue"

// Names under which clients present sessions and tickets.
const (
	SessionCookie = "rempart_session"
	SessionHeader = "X-Rempart-Session"
	SessionQuery  = "rempart_session"
	TicketCookie  = "rempart_ticket"
	TicketHeader  = "X-Rempart-Ticket"
	TicketQuery   = "rempart_ticket"
	// AdmittedHeader carries the admission number on the admitting answer.
	AdmittedHeader = "X-Rempart-Admitted"
)

// Stage is the admit step of a site's way: gated requests pass with a
// valid session, take a free place, or wait in the room.
type Stage struct {
	// Room is the site's admission state. Required.
	Room *Room
	// Gate marks the route classes that need a session.
	Gate [telemetry.NumClasses]bool
	// GatePages also gates browser navigations to any path of the site.
	GatePages bool
	// Tokens checks the platform's playback tokens; nil: not checked.
	Tokens *Tokens
	// Next serves what admission lets through. Required.
	Next http.Handler
}

var _ http.Handler = (*Stage)(nil)

// visit is one gated request on its way through the stage.
type visit struct {
	client  netip.Addr
	ua      string
	now     time.Time
	account string
}

// ServeHTTP lets r through, admits it, or holds it in the waiting room,
// and counts what it sends toward the site's egress.
func (s *Stage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.serve(w, r)
	s.Room.egress.meter.Add(telemetry.RecordOf(w).Bytes)
}

func (s *Stage) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == StatusPath {
		s.status(w, r)
		return
	}
	rec := telemetry.RecordOf(w)
	if !s.Gate[rec.Class] && !(s.GatePages && httplang.Navigating(r)) {
		s.Next.ServeHTTP(w, r)
		return
	}
	v := visit{client: rec.Client, ua: r.Header.Get("User-Agent"), now: s.Room.now()}
	se, token, ok := s.session(w, r, &v)
	if !ok {
		return
	}
	if v.account, ok = s.checkToken(w, r, v.now, se == nil); !ok {
		return
	}
	if se != nil {
		s.pass(w, r, se, token)
		return
	}
	if raw := ticketOf(r); raw != "" {
		s.redeem(w, r, &v, raw)
		return
	}
	s.newcomer(w, r, &v)
}

// session finds r's session. ok is false when r was refused; se is nil
// when r has none that counts (none, ended, or from another process).
// token is the session when r carried it in its query (playlists then
// carry it on), else "".
func (s *Stage) session(w http.ResponseWriter, r *http.Request, v *visit) (se *session, token string, ok bool) {
	raw, fromQuery := sessionOf(r)
	if raw == "" {
		return nil, "", true
	}
	if fromQuery {
		token = raw
	}
	sv, err := s.Room.sealer.open(sessionV1, raw, v.client, v.ua)
	switch err {
	case nil:
	case ErrStale:
		return nil, "", true
	case ErrElsewhere:
		s.refuse(w, reasonSessionElsewhere)
		return nil, "", false
	default:
		s.refuse(w, reasonForgedSession)
		return nil, "", false
	}
	if se = s.Room.ses.touch(sv.id, v.now); se == nil {
		s.Room.stats.Resumed.Add(1) // ended: it queues anew
	}
	return se, token, true
}

// redeem handles a ticket holder coming back: in if its turn has come,
// else told again how long to wait.
func (s *Stage) redeem(w http.ResponseWriter, r *http.Request, v *visit, raw string) {
	tu, live, ok := s.ticketTurn(w, raw, v)
	room := s.Room
	switch {
	case !ok:
	case !live:
		// From another process, redeemed or dropped: it names no place.
		// Its holder (a browser whose cookie outlived its session, or a
		// replay) starts again as a newcomer, behind everyone waiting.
		s.newcomer(w, r, v)
	case !tu.admitted:
		s.hold(w, r, raw, tu)
	case v.account != "" && !room.accountFree(v.account):
		s.refuse(w, reasonAccountLimit)
	default:
		room.stats.Redeemed.Add(1)
		s.admitted(w, r, room.open(tu.seq, v))
	}
}

// ticketTurn opens ticket raw and polls its place. It answers refusals
// itself (ok false); live is false for a ticket that names no place: from
// another process, or redeemed or dropped (counted as ticket_used).
func (s *Stage) ticketTurn(w http.ResponseWriter, raw string, v *visit) (tu turn, live, ok bool) {
	sv, err := s.Room.sealer.open(ticketV1, raw, v.client, v.ua)
	switch err {
	case nil:
	case ErrStale:
		return turn{}, false, true
	case ErrElsewhere:
		s.refuse(w, reasonTicketElsewhere)
		return turn{}, false, false
	default:
		s.refuse(w, reasonForgedTicket)
		return turn{}, false, false
	}
	room := s.Room
	room.mu.Lock()
	tu, live = room.pollLocked(sv.id, v.now)
	room.mu.Unlock()
	if !live {
		room.stats.Refused[reasonTicketUsed].Add(1)
	}
	return tu, live, true
}

// newcomer admits r at once if a place is free and nobody waits, else
// gives it a ticket.
func (s *Stage) newcomer(w http.ResponseWriter, r *http.Request, v *visit) {
	room := s.Room
	if v.account != "" && !room.accountFree(v.account) {
		s.refuse(w, reasonAccountLimit)
		return
	}
	room.mu.Lock()
	seq := room.enterLocked(v.now)
	room.mu.Unlock()
	if seq > 0 {
		room.stats.Direct.Add(1)
		s.admitted(w, r, room.open(seq, v))
		return
	}
	if wait := room.limits.take(v.client, telemetry.RecordOf(w).Prefix, room.queueLimits(), v.now); wait > 0 {
		room.stats.Limited.Add(1)
		s.limited(w, wait)
		return
	}
	room.mu.Lock()
	t, ok := room.queueLocked(v.now, v.account)
	var tu turn
	if ok {
		tu = room.turnLocked(t, v.now)
	}
	room.mu.Unlock()
	if !ok {
		room.stats.Full.Add(1)
		s.full(w)
		return
	}
	s.hold(w, r, room.sealer.seal(ticketV1, t.number, v.now, v.client, v.ua), tu)
}

// admitted answers the request that got a place: it carries the session
// and goes on to be served.
func (s *Stage) admitted(w http.ResponseWriter, r *http.Request, g grant) {
	giveSession(w, r, g)
	telemetry.RecordOf(w).Action = "admitted"
	s.pass(w, r, g.se, "")
}

// giveSession puts a new session on the answer: cookie and headers.
func giveSession(w http.ResponseWriter, r *http.Request, g grant) {
	h := w.Header()
	h.Add("Set-Cookie", cookie(SessionCookie, g.token, r.TLS != nil))
	if ticketOf(r) != "" {
		h.Add("Set-Cookie", expired(TicketCookie))
	}
	h.Set(SessionHeader, g.token)
	h.Set(AdmittedHeader, uitoa(g.se.id))
}

// sessionOf returns the session r presents: header, cookie or query.
func sessionOf(r *http.Request) (raw string, fromQuery bool) {
	if v := r.Header.Get(SessionHeader); v != "" {
		return v, false
	}
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		return c.Value, false
	}
	if strings.Contains(r.URL.RawQuery, SessionQuery+"=") {
		return r.URL.Query().Get(SessionQuery), true
	}
	return "", false
}

// ticketOf returns the ticket r presents: header, cookie or query.
func ticketOf(r *http.Request) string {
	if v := r.Header.Get(TicketHeader); v != "" {
		return v
	}
	if c, err := r.Cookie(TicketCookie); err == nil && c.Value != "" {
		return c.Value
	}
	if strings.Contains(r.URL.RawQuery, TicketQuery+"=") {
		return r.URL.Query().Get(TicketQuery)
	}
	return ""
}
