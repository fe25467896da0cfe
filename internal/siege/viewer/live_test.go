package viewer

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/siege/sim"
)

func TestLiveFastOrigin(t *testing.T) {
	if testing.Short() {
		t.Skip("plays 13 s of live video")
	}
	t.Parallel()
	ts := startSynth(t, 0, nil)
	env, rec := newEnv(t, ts.URL, sim.Params{"watch": "13s"})
	run(t.Context(), Models()["live-viewer"], env, sim.Client{Source: src(2)})
	s := rec.summary(t)
	if !s.Started || s.Stalls != 0 || s.Startup > 3*time.Second || s.Watched < 10*time.Second {
		t.Errorf("summary %+v: want started within 3s, 10s watched, no stall", s)
	}
	if s.Switches < 1 || s.Bitrate <= 500_000 {
		t.Errorf("summary %+v: want a climb above the lowest rendition", s)
	}
	if rec.count(sim.KindMaster) != 1 || rec.count(sim.KindMedia) < 10 || rec.count(sim.KindSegment) < 12 {
		t.Errorf("requests: %d master, %d media, %d segments", rec.count(sim.KindMaster), rec.count(sim.KindMedia), rec.count(sim.KindSegment))
	}
	if n := len(rec.segs); n < 12 || n != rec.count(sim.KindSegment) {
		t.Errorf("%d distinct segments reported to the SegmentCounter, %d requested", n, rec.count(sim.KindSegment))
	}
	// Reloads at the target-duration cadence: about one per second, not more.
	if n := rec.count(sim.KindMedia); n > 30 {
		t.Errorf("%d media playlist loads in 13 s: reloading too often", n)
	}
	states := rec.stateList()
	if states[0] != sim.StateStarting || states[1] != sim.StatePlaying || states[len(states)-1] != sim.StateDone {
		t.Errorf("states %v", states)
	}
}

func TestLiveSlowOriginStalls(t *testing.T) {
	if testing.Short() {
		t.Skip("plays 10 s of live video")
	}
	t.Parallel()
	// Every answer takes 1.2 s while a segment lasts 1 s: no player keeps up.
	ts := startSynth(t, 1200*time.Millisecond, nil)
	env, rec := newEnv(t, ts.URL, sim.Params{"watch": "12s"})
	run(t.Context(), Models()["live-viewer"], env, sim.Client{Source: src(3)})
	s := rec.summary(t)
	if !s.Started || s.Stalls == 0 || s.StallTime <= 0 {
		t.Errorf("summary %+v: want stalls against a slow origin", s)
	}
	if !slices.Contains(rec.stateList(), sim.StateStalled) {
		t.Errorf("states %v: no Stalled", rec.stateList())
	}
}

// waitingRoom holds each client once: the first request gets a 503 with
// Retry-After and a cookie (or a 429 with a JSON ticket); later requests
// pass only with the cookie (or ticket).
func waitingRoom(useTicket bool, admitted *atomic.Int32) func(http.Handler) http.Handler {
	var mu sync.Mutex
	held := map[string]bool{}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := r.Cookie("wr")
			pass := err == nil && c.Value == "ok"
			if useTicket {
				pass = r.Header.Get(ticketHeader) == "t-1"
			}
			host, _, _ := net.SplitHostPort(r.RemoteAddr)
			mu.Lock()
			first := !held[host]
			held[host] = true
			mu.Unlock()
			switch {
			case pass:
				admitted.Add(1)
				next.ServeHTTP(w, r)
			case first && useTicket:
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusTooManyRequests)
				json.NewEncoder(w).Encode(map[string]any{"ticket": "t-1", "retry_after": 1})
			case first:
				http.SetCookie(w, &http.Cookie{Name: "wr", Value: "ok", Path: "/"})
				w.Header().Set("Retry-After", "1")
				http.Error(w, "queued", http.StatusServiceUnavailable)
			default:
				http.Error(w, "no admission", http.StatusForbidden)
			}
		})
	}
}

func TestLiveWaitingRoom(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ticket bool
	}{{"retry-after and cookie", false}, {"JSON ticket", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var admitted atomic.Int32
			ts := startSynth(t, 0, waitingRoom(tc.ticket, &admitted))
			env, rec := newEnv(t, ts.URL, sim.Params{"watch": "4s"})
			run(t.Context(), Models()["live-viewer"], env, sim.Client{Source: src(4)})
			s := rec.summary(t)
			if !s.Started || s.Queued < time.Second || s.Errors != 0 || admitted.Load() < 3 {
				t.Errorf("summary %+v, %d admitted: want queued ≥ 1s, then playing", s, admitted.Load())
			}
			states := rec.stateList()
			q, p := slices.Index(states, sim.StateQueued), slices.Index(states, sim.StatePlaying)
			if q < 0 || p < q {
				t.Errorf("states %v: want Queued then Playing", states)
			}
			if s.Startup < s.Queued {
				t.Errorf("startup %v does not include queue time %v", s.Startup, s.Queued)
			}
		})
	}
}

func TestLiveCancel(t *testing.T) {
	t.Parallel()
	ts := startSynth(t, 5*time.Second, nil) // the first answer never comes in time
	env, rec := newEnv(t, ts.URL)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(300*time.Millisecond, cancel)
	if took := run(ctx, Models()["live-viewer"], env, sim.Client{Source: src(5)}); took > time.Second {
		t.Errorf("Run took %v after cancel at 300ms", took)
	}
	s := rec.summary(t)
	if s.Started || s.Errors != 0 {
		t.Errorf("summary %+v: a cancelled viewer is not an error", s)
	}
	if st := rec.stateList(); st[len(st)-1] != sim.StateDone {
		t.Errorf("states %v: want Done last", st)
	}
}

func TestBudgetStopsRequests(t *testing.T) {
	t.Parallel()
	ts := startSynth(t, 0, nil)
	for name, m := range Models() {
		t.Run(name, func(t *testing.T) {
			env, rec := newEnv(t, ts.URL, sim.Params{"think": "10ms", "chunk": 16384})
			env.Budget = sim.NewBudget(4)
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			if took := run(ctx, m, env, sim.Client{Source: src(6)}); took > 10*time.Second {
				t.Errorf("Run took %v: did not stop on budget", took)
			}
			rec.mu.Lock()
			n := len(rec.reqs)
			rec.mu.Unlock()
			if n > 4 || n == 0 {
				t.Errorf("%d requests with a budget of 4", n)
			}
			rec.summary(t)
		})
	}
}

func TestSourceAddresses(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[string]map[string]bool{} // User-Agent → remote IPs
	ts := startSynth(t, 0, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			host, _, _ := net.SplitHostPort(r.RemoteAddr)
			mu.Lock()
			if seen[r.UserAgent()] == nil {
				seen[r.UserAgent()] = map[string]bool{}
			}
			seen[r.UserAgent()][host] = true
			mu.Unlock()
			next.ServeHTTP(w, r)
		})
	})
	var params []sim.Params
	for i := range 3 {
		params = append(params, sim.Params{"watch": "2500ms", "user_agent": "v" + string(rune('a'+i)), "think": "100ms"})
	}
	env, _ := newEnv(t, ts.URL, params...)
	var wg sync.WaitGroup
	models := []string{"live-viewer", "ondemand-listener", "app-user"}
	for i := range 3 {
		wg.Go(func() {
			run(t.Context(), Models()[models[i]], env, sim.Client{ID: int64(i), Pop: i, Source: src(byte(21 + i))})
		})
	}
	wg.Wait()
	for i := range 3 {
		ua, want := "v"+string(rune('a'+i)), src(byte(21+i)).String()
		if ips := seen[ua]; len(ips) != 1 || !ips[want] {
			t.Errorf("viewer %s came from %v, want only %s", ua, ips, want)
		}
	}
}

func TestOffTargetURIRefused(t *testing.T) {
	t.Parallel()
	ts := startSynth(t, 0, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "master.m3u8") {
				w.Write([]byte("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nhttp://198.51.100.1/x.m3u8\n"))
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	env, rec := newEnv(t, ts.URL)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	run(ctx, Models()["live-viewer"], env, sim.Client{Source: src(7)})
	if s := rec.summary(t); s.Started || s.Errors == 0 {
		t.Errorf("summary %+v: want an error and no picture", s)
	}
	if n := rec.count(sim.KindMedia); n != 0 {
		t.Errorf("%d media requests sent off the target", n)
	}
}
