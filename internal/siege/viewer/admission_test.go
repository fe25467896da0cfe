package viewer

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/siege/sim"
)

// TestLiveFollowsDegradation: a media playlist answered 302 (an edge
// degrading the stream) is followed; the rendition received becomes the
// one playing, and the bitrate reported is the one received.
func TestLiveFollowsDegradation(t *testing.T) {
	if testing.Short() {
		t.Skip("plays 5 s of live video")
	}
	t.Parallel()
	var redirects atomic.Int32
	ts := startSynth(t, 0, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "p/index.m3u8") && !strings.HasSuffix(r.URL.Path, "/240p/index.m3u8") {
				redirects.Add(1)
				http.Redirect(w, r, "/live/240p/index.m3u8", http.StatusFound)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	env, rec := newEnv(t, ts.URL, sim.Params{"watch": "5s"})
	run(t.Context(), Models()["live-viewer"], env, sim.Client{Source: src(31)})
	s := rec.summary(t)
	if !s.Started || s.Stalls != 0 || s.Errors != 0 {
		t.Fatalf("summary %+v: want playing, no stall, no error", s)
	}
	if redirects.Load() == 0 {
		t.Fatal("the player never climbed to a redirected rendition: the test proves nothing")
	}
	if s.Bitrate < 400_000 || s.Bitrate > 420_000 {
		t.Errorf("bitrate %d, want 240p's (407,772): what was received", s.Bitrate)
	}
	a := s.Admission
	if a == nil || len(a.Played) != 1 || a.Played[0].Rendition != "/live/240p/index.m3u8" {
		t.Errorf("played %+v, want 240p only", a)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if !slices.ContainsFunc(rec.reqs, func(q recReq) bool { return q.status == http.StatusFound && q.kind == sim.KindMedia }) {
		t.Error("the 302 was not recorded as a request")
	}
	// The redirect hold keeps the player from climbing back every load.
	if n := redirects.Load(); n > 3 {
		t.Errorf("%d redirects in 5 s: the player keeps climbing back", n)
	}
}

// TestLiveRefused: a 403 {"status":"refused"} is an error, not a wait.
func TestLiveRefused(t *testing.T) {
	t.Parallel()
	ts := startSynth(t, 0, func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			json.NewEncoder(w).Encode(map[string]string{"status": "refused", "reason": "account_limit"})
		})
	})
	env, rec := newEnv(t, ts.URL)
	run(t.Context(), Models()["live-viewer"], env, sim.Client{Source: src(32)})
	s := rec.summary(t)
	if s.Started || s.Errors != 1 || s.Queued != 0 || s.Admission == nil || s.Admission.Refused != "account_limit" || s.Admission.Queued() {
		t.Errorf("summary %+v, admission %+v: want a refusal, no queue", s, s.Admission)
	}
	if slices.Contains(rec.stateList(), sim.StateQueued) {
		t.Errorf("states %v: a refusal is not a wait", rec.stateList())
	}
}

// TestLivePatienceAndWatchAdmitted: a viewer held too long gives up; one
// admitted leaves watch_admitted after its admission.
func TestLivePatienceAndWatchAdmitted(t *testing.T) {
	t.Parallel()
	var admit atomic.Bool
	ts := startSynth(t, 0, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if admit.Load() && r.Header.Get(ticketHeader) == "tk" || r.Header.Get(sessionHeader) == "s" {
				w.Header().Set(sessionHeader, "s")
				w.Header().Set(admittedHeader, "1")
				next.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Retry-After", "1")
			w.Header().Set(ticketHeader, "tk")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"status":"queued","number":1,"position":1,"wait":1,"retry_after":0.3}`))
		})
	})
	env, rec := newEnv(t, ts.URL, sim.Params{"patience": "800ms"})
	took := run(t.Context(), Models()["live-viewer"], env, sim.Client{Source: src(33)})
	s := rec.summary(t)
	if a := s.Admission; took > 2*time.Second || s.Errors != 0 || a == nil || !a.Queued() || a.WasAdmitted() || a.RunEnded {
		t.Errorf("impatient viewer: took %v, summary %+v, admission %+v: want it gone after 800ms, no error", took, s, a)
	}
	admit.Store(true)
	env, rec = newEnv(t, ts.URL, sim.Params{"watch_admitted": "1500ms"})
	took = run(t.Context(), Models()["live-viewer"], env, sim.Client{Source: src(34)})
	s = rec.summary(t)
	a := s.Admission
	if a == nil || !a.WasAdmitted() || a.Seq != 1 || !s.Started || a.RunEnded {
		t.Fatalf("summary %+v, admission %+v: want admitted with seq 1, started", s, a)
	}
	if stay := a.Left.Sub(a.Admitted); stay < 1400*time.Millisecond || stay > 2500*time.Millisecond || took > 4*time.Second {
		t.Errorf("stayed %v after admission (run took %v), want 1.5s", stay, took)
	}
}

// TestHoldsAreRecordedAsHeld: the waiting room's answers the viewer waits
// on (503 queued, 429 limited) reach the recorder as sim.ErrHeld; a plain
// 503, which it does not wait on, stays a failure.
func TestHoldsAreRecordedAsHeld(t *testing.T) {
	t.Parallel()
	var masters atomic.Int32
	ts := startSynth(t, 0, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasSuffix(r.URL.Path, "master.m3u8") {
				next.ServeHTTP(w, r)
				return
			}
			switch masters.Add(1) {
			case 1:
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusServiceUnavailable)
				w.Write([]byte(`{"status":"queued","ticket":"t1","number":1,"position":1,"wait":1,"retry_after":0.25}`))
			case 2:
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusTooManyRequests)
				w.Write([]byte(`{"status":"limited","retry_after":0.25}`))
			case 3:
				http.Error(w, "overloaded", http.StatusServiceUnavailable)
			default:
				next.ServeHTTP(w, r)
			}
		})
	})
	env, rec := newEnv(t, ts.URL, sim.Params{"watch": "2500ms"})
	run(t.Context(), Models()["live-viewer"], env, sim.Client{Source: src(33)})
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var got []string
	for _, q := range rec.reqs {
		if q.kind != sim.KindMaster {
			continue
		}
		what := "ok"
		switch {
		case errors.Is(q.err, sim.ErrHeld):
			what = "held"
		case q.err != nil || q.status >= 500:
			what = "error"
		}
		got = append(got, fmt.Sprintf("%d %s", q.status, what))
	}
	if want := []string{"503 held", "429 held", "503 error", "200 ok"}; !slices.Equal(got, want) {
		t.Errorf("master requests recorded as %q, want %q", got, want)
	}
}
