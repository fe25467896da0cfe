package admission

import (
	"net/http"

	"github.com/rempart/rempart/internal/telemetry"
)

// status answers StatusPath: the turn of the ticket presented, without
// holding anything; once the turn has come it opens the session (cookie
// and headers, as an admitted request would) and says "admitted".
func (s *Stage) status(w http.ResponseWriter, r *http.Request) {
	rec := telemetry.RecordOf(w)
	v := visit{client: rec.Client, ua: r.Header.Get("User-Agent"), now: s.Room.now()}
	if se, _, ok := s.session(w, r, &v); !ok {
		return
	} else if se != nil {
		writeJSON(w, http.StatusOK, answer{Status: "admitted", Admitted: se.id})
		return
	}
	raw := ticketOf(r)
	if raw == "" {
		writeJSON(w, http.StatusOK, answer{Status: "none"})
		return
	}
	tu, live, ok := s.ticketTurn(w, raw, &v)
	room := s.Room
	switch {
	case !ok:
	case !live:
		w.Header().Add("Set-Cookie", expired(TicketCookie))
		writeJSON(w, http.StatusOK, answer{Status: "none"})
	case !tu.admitted:
		a := turnAnswer(raw, tu)
		writeJSON(w, http.StatusOK, a)
	default:
		room.stats.Redeemed.Add(1)
		g := room.open(tu.seq, &v)
		giveSession(w, r, g)
		writeJSON(w, http.StatusOK, answer{Status: "admitted", Session: g.token, Admitted: g.se.id})
	}
}
