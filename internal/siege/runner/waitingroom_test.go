package runner

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/siege/scenario"
	"github.com/rempart/rempart/internal/siege/sim"
	"github.com/rempart/rempart/internal/siege/viewer"
	"github.com/rempart/rempart/internal/synth"
)

// room is a trivial waiting room in front of next, speaking the wire
// protocol of docs/admission.md: at most capacity sessions, a session
// ends idle after its last request, places go to tickets in order (or,
// with lifo, deliberately to the newest ticket), and the admitting answer
// carries X-Rempart-Admitted.
type room struct {
	next     http.Handler
	capacity int
	idle     time.Duration
	turnover time.Duration // a place's expected cycle, for the waits displayed
	lifo     bool

	mu       sync.Mutex // guards the fields below
	sessions map[string]time.Time
	waiting  []*ticket // in number order
	tickets  map[string]*ticket
	granted  int // places granted to tickets not yet redeemed
	number   int64
	seq      int64

	sessionHeaders atomic.Int64 // requests presenting X-Rempart-Session
}

type ticket struct {
	id      string
	number  int64
	seq     int64 // 0 while waiting
	claimed bool
}

func newRoom(next http.Handler, capacity int, idle, turnover time.Duration, lifo bool) *room {
	return &room{next: next, capacity: capacity, idle: idle, turnover: turnover, lifo: lifo,
		sessions: map[string]time.Time{}, tickets: map[string]*ticket{}}
}

func (rm *room) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	rm.mu.Lock()
	rm.expireLocked(now)
	rm.grantLocked()
	if s := credential(r, "X-Rempart-Session", "rempart_session"); s != "" {
		if _, ok := rm.sessions[s]; ok {
			rm.sessions[s] = now
			rm.mu.Unlock()
			if r.Header.Get("X-Rempart-Session") != "" {
				rm.sessionHeaders.Add(1)
			}
			rm.next.ServeHTTP(w, r)
			return
		}
	}
	tk := rm.tickets[credential(r, "X-Rempart-Ticket", "rempart_ticket")]
	switch {
	case tk != nil && tk.seq > 0 && !tk.claimed:
		tk.claimed = true
		rm.granted--
		rm.admitLocked(w, now, tk.seq)
	case tk != nil:
		rm.queuedLocked(w, tk)
	case len(rm.waiting) == 0 && len(rm.sessions)+rm.granted < rm.capacity:
		rm.seq++
		rm.admitLocked(w, now, rm.seq)
	default:
		rm.number++
		tk = &ticket{id: fmt.Sprintf("t-%d", rm.number), number: rm.number}
		rm.tickets[tk.id] = tk
		rm.waiting = append(rm.waiting, tk)
		rm.queuedLocked(w, tk)
	}
	admitted := w.Header().Get("X-Rempart-Admitted") != ""
	rm.mu.Unlock()
	if admitted {
		rm.next.ServeHTTP(w, r)
	}
}

func credential(r *http.Request, header, cookie string) string {
	if v := r.Header.Get(header); v != "" {
		return v
	}
	if c, err := r.Cookie(cookie); err == nil {
		return c.Value
	}
	return ""
}

func (rm *room) expireLocked(now time.Time) {
	for s, last := range rm.sessions {
		if now.Sub(last) > rm.idle {
			delete(rm.sessions, s)
		}
	}
}

// grantLocked hands the free places to waiting tickets: the oldest first,
// or the newest with lifo.
func (rm *room) grantLocked() {
	for len(rm.waiting) > 0 && len(rm.sessions)+rm.granted < rm.capacity {
		i := 0
		if rm.lifo {
			i = len(rm.waiting) - 1
		}
		rm.seq++
		rm.waiting[i].seq = rm.seq
		rm.waiting = slices.Delete(rm.waiting, i, i+1)
		rm.granted++
	}
}

func (rm *room) admitLocked(w http.ResponseWriter, now time.Time, seq int64) {
	s := fmt.Sprintf("s-%d", seq)
	rm.sessions[s] = now
	http.SetCookie(w, &http.Cookie{Name: "rempart_session", Value: s, Path: "/", HttpOnly: true})
	w.Header().Set("X-Rempart-Session", s)
	w.Header().Set("X-Rempart-Admitted", fmt.Sprint(seq))
}

func (rm *room) queuedLocked(w http.ResponseWriter, tk *ticket) {
	pos := slices.Index(rm.waiting, tk) + 1
	if pos == 0 {
		pos = 1 // granted, not yet claimed
	}
	wait := float64(pos) * rm.turnover.Seconds() / float64(rm.capacity)
	http.SetCookie(w, &http.Cookie{Name: "rempart_ticket", Value: tk.id, Path: "/", HttpOnly: true})
	w.Header().Set("X-Rempart-Ticket", tk.id)
	w.Header().Set("Retry-After", "1")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusServiceUnavailable)
	json.NewEncoder(w).Encode(map[string]any{"status": "queued", "ticket": tk.id, "number": tk.number,
		"position": pos, "wait": wait, "retry_after": 0.3, "status_url": "/_rempart/queue"})
}

// TestWaitingRoomEndToEnd runs live viewers through a waiting room of 3
// places, arriving faster than places free, and checks the admission
// section; then through a room that grants places to the newest ticket,
// which the FIFO count must catch.
func TestWaitingRoomEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs live viewers for 7 s")
	}
	for _, tc := range []struct {
		name string
		lifo bool
	}{{"fifo", false}, {"out of order", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			origin, err := synth.New(synth.Options{SegmentDuration: time.Second, Window: 6})
			if err != nil {
				t.Fatal(err)
			}
			const watch, idle = 1500 * time.Millisecond, 1500 * time.Millisecond
			rm := newRoom(origin, 3, idle, watch+idle+300*time.Millisecond, tc.lifo)
			srv := httptest.NewServer(rm)
			defer srv.Close()
			s := roomScenario(t, watch)
			rep, err := Run(t.Context(), Config{Scenario: s, Models: viewer.Models(), Target: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			a := rep.Admission
			if a == nil {
				t.Fatal("no admission section")
			}
			t.Logf("%+v", *a)
			if a.Viewers != 12 || a.AdmittedDirectly != 3 || a.AdmittedFromQueue < 2 || a.Queued != 9 ||
				a.AdmittedFromQueue+a.StillWaiting != a.Queued || a.GaveUp != 0 || a.Refused != 0 {
				t.Errorf("counts: %+v", *a)
			}
			if pb := a.Playback; pb.StallFreeRatio != 1 || pb.Viewers < 3 || pb.MeanBitrate <= 0 || len(a.Renditions) == 0 {
				t.Errorf("admitted playback %+v, renditions %+v: want all stall-free", pb, a.Renditions)
			}
			if w := a.WaitAccuracy; w.Count != a.AdmittedFromQueue || a.QueueTime.Count != a.AdmittedFromQueue || a.QueueTime.P50 <= 0 {
				t.Errorf("wait accuracy %+v, queue time %+v: want one per viewer admitted from the queue", w, a.QueueTime)
			}
			if p := rep.Pops[0]; p.Held == 0 || p.Errors != 0 {
				t.Errorf("viewers: %d held, %d errors; want the room's answers held, not errors", p.Held, p.Errors)
			}
			var perSecond int64
			for _, sec := range rep.Series {
				perSecond += sec.Admitted
			}
			if perSecond != a.AdmittedDirectly+a.AdmittedFromQueue {
				t.Errorf("per-second admissions add up to %d, want %d", perSecond, a.AdmittedDirectly+a.AdmittedFromQueue)
			}
			if rm.sessionHeaders.Load() == 0 {
				t.Error("no request presented X-Rempart-Session")
			}
			f := a.FIFO
			switch {
			case !f.Measured || f.Sequenced != a.AdmittedDirectly+a.AdmittedFromQueue:
				t.Errorf("FIFO %+v: want every admitted viewer sequenced", f)
			case !tc.lifo && (f.Violations != 0 || !rep.Pass):
				t.Errorf("FIFO room: %+v, thresholds %+v: want no violation, all held", f, rep.Checks)
			case tc.lifo && (f.Violations == 0 || f.ViewersInvolved < 2 || rep.Pass):
				t.Errorf("LIFO room: %+v, thresholds %+v: want violations caught", f, rep.Checks)
			}
		})
	}
}

// roomScenario: 4 viewers/s for 3 s, watching watch once admitted, then a
// 4 s tail; thresholds as the built-in waiting-room has them.
func roomScenario(t *testing.T, watch time.Duration) *scenario.Scenario {
	s := &scenario.Scenario{
		Name: "room", MaxDuration: 30 * time.Second, MaxRequests: 1 << 20, MaxClients: 1000,
		Populations: []scenario.Population{{Name: "viewers", Model: "live-viewer", Role: scenario.RoleViewer,
			Params: sim.Params{"watch_admitted": watch.String()}}},
		Phases: []scenario.Phase{
			{Name: "rush", Duration: 3 * time.Second, Arrivals: []scenario.Arrival{{Pop: 0, From: 4, To: 4}}},
			{Name: "tail", Duration: 4 * time.Second},
		},
	}
	for _, e := range []string{"admission.fifo_violations <= 0", "admission.admitted_stall_free >= 1", "admission.admitted_from_queue >= 1"} {
		th, err := scenario.ParseThreshold(e)
		if err != nil {
			t.Fatal(err)
		}
		s.Thresholds = append(s.Thresholds, th)
	}
	return s
}
