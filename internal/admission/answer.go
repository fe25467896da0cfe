package admission

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/rempart/rempart/internal/httplang"
	"github.com/rempart/rempart/internal/telemetry"
)

// answer is the JSON body of every answer the room gives itself
// (docs/admission.md).
type answer struct {
	Status     string   `json:"status"`
	Reason     string   `json:"reason,omitempty"`
	Ticket     string   `json:"ticket,omitempty"`
	Number     uint64   `json:"number,omitempty"`
	Position   int      `json:"position,omitempty"`
	Wait       *float64 `json:"wait,omitempty"`
	RetryAfter float64  `json:"retry_after,omitempty"`
	OpensIn    float64  `json:"opens_in,omitempty"`
	StatusURL  string   `json:"status_url,omitempty"`
	Session    string   `json:"session,omitempty"`
	Admitted   uint64   `json:"admitted,omitempty"`
}

// turnAnswer is the JSON of a turn.
func turnAnswer(ticket string, tu turn) answer {
	a := answer{Status: "queued", Ticket: ticket, Number: tu.number, Position: tu.position,
		RetryAfter: round1(tu.retry.Seconds()), StatusURL: StatusPath}
	if tu.wait >= 0 {
		w := math.Round(tu.wait.Seconds())
		a.Wait = &w
	}
	if tu.opensIn > 0 {
		a.Status, a.OpensIn, a.Wait = "prequeue", math.Round(tu.opensIn.Seconds()), nil
	}
	return a
}

// hold answers a request that must wait: 503 with Retry-After, the ticket
// in a cookie and a header, and the turn as JSON (or the waiting page for
// a browser navigating).
func (s *Stage) hold(w http.ResponseWriter, r *http.Request, ticket string, tu turn) {
	rec := telemetry.RecordOf(w)
	rec.Decide(StageName, telemetry.OutcomeRefused, "queued")
	rec.Action = "queued"
	h := w.Header()
	h.Add("Set-Cookie", cookie(TicketCookie, ticket, r.TLS != nil))
	h.Set(TicketHeader, ticket)
	h.Set("Retry-After", strconv.Itoa(ceilSeconds(tu.retry)))
	if httplang.Navigating(r) {
		s.page(w, r, tu)
		return
	}
	writeJSON(w, http.StatusServiceUnavailable, turnAnswer(ticket, tu))
}

// refuse answers 403 (401 for a missing or invalid token) with the reason.
func (s *Stage) refuse(w http.ResponseWriter, why reason) {
	s.Room.stats.Refused[why].Add(1)
	telemetry.RecordOf(w).Decide(StageName, telemetry.OutcomeRefused, why.String())
	code := http.StatusForbidden
	if why == reasonTokenRequired || why == reasonBadToken {
		code = http.StatusUnauthorized
	}
	writeJSON(w, code, answer{Status: "refused", Reason: why.String()})
}

// limited answers a client taking tickets too fast: 429 with Retry-After.
func (s *Stage) limited(w http.ResponseWriter, wait time.Duration) {
	telemetry.RecordOf(w).Decide(StageName, telemetry.OutcomeRefused, "ticket_rate")
	w.Header().Set("Retry-After", strconv.Itoa(ceilSeconds(wait)))
	writeJSON(w, http.StatusTooManyRequests, answer{Status: "limited", RetryAfter: round1(wait.Seconds())})
}

// full answers a newcomer when the line itself is full.
func (s *Stage) full(w http.ResponseWriter) {
	telemetry.RecordOf(w).Decide(StageName, telemetry.OutcomeRefused, "line_full")
	w.Header().Set("Retry-After", "60")
	writeJSON(w, http.StatusServiceUnavailable, answer{Status: "full", RetryAfter: 60})
}

func writeJSON(w http.ResponseWriter, code int, a answer) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	b, _ := json.Marshal(a) // plain fields: cannot fail
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

// cookie returns a Set-Cookie value for a room cookie.
func cookie(name, value string, secure bool) string {
	c := http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: secure}
	return c.String()
}

// expired returns a Set-Cookie value that removes a room cookie.
func expired(name string) string {
	c := http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode}
	return c.String()
}

func ceilSeconds(d time.Duration) int { return max(1, int(math.Ceil(d.Seconds()))) }

func round1(f float64) float64 { return math.Round(f*10) / 10 }

func uitoa(n uint64) string { return strconv.FormatUint(n, 10) }
