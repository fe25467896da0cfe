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
	sv, err := s.Room.sealer.open(ticketV1, raw, v.client, v.ua)
	switch err {
	case nil:
	case ErrStale:
		writeJSON(w, http.StatusOK, answer{Status: "none"})
		return
	case ErrElsewhere:
		s.refuse(w, reasonTicketElsewhere)
		return
	default:
		s.refuse(w, reasonForgedTicket)
		return
	}
	room := s.Room
	room.mu.Lock()
	tu, found := room.pollLocked(sv.id, v.now)
	room.mu.Unlock()
	switch {
	case !found:
		room.stats.Refused[reasonTicketUsed].Add(1)
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
