package viewer

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/siege/sim"
)

// challengeAll answers every request as rempart's attack mode answers a
// player without clearance: 403 pointing at the challenge page.
func challengeAll(pages *atomic.Int32) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/_rempart/") {
				pages.Add(1)
				http.Error(w, "page", http.StatusOK)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			json.NewEncoder(w).Encode(map[string]string{"challenge": "/_rempart/challenge/?return=/"})
		})
	}
}

// TestPlayerCannotSolveAChallenge: a plain player meeting the challenge
// neither opens its page nor plays: it is refused, and not stall-free.
func TestPlayerCannotSolveAChallenge(t *testing.T) {
	t.Parallel()
	var pages atomic.Int32
	ts := startSynth(t, 0, challengeAll(&pages))
	env, rec := newEnv(t, ts.URL, sim.Params{"client": "player", "watch": "3s"})
	took := run(t.Context(), Models()["live-viewer"], env, sim.Client{Source: src(41)})
	s := rec.summary(t)
	if s.Started || !s.Refused || s.Errors != 1 {
		t.Errorf("summary %+v: want never started, refused, one error", s)
	}
	if pages.Load() != 0 {
		t.Errorf("a plain player opened the challenge page %d times", pages.Load())
	}
	if n := rec.count(sim.KindMaster); n != 1 || took > 2*time.Second {
		t.Errorf("%d master requests in %v: a refused player stops at once", n, took)
	}
}

// TestPlayerRefusedMidStream: a player refused once it plays (the edge
// starts throttling its segments) stops, and the refusal is its stall.
func TestPlayerRefusedMidStream(t *testing.T) {
	if testing.Short() {
		t.Skip("plays live video")
	}
	t.Parallel()
	var segments atomic.Int32
	ts := startSynth(t, 0, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, ".ts") && segments.Add(1) > 2 {
				http.Error(w, "slow down", http.StatusTooManyRequests)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	env, rec := newEnv(t, ts.URL, sim.Params{"client": "player", "watch": "6s"})
	took := run(t.Context(), Models()["live-viewer"], env, sim.Client{Source: src(42)})
	s := rec.summary(t)
	if !s.Started || !s.Refused || s.Stalls != 1 {
		t.Errorf("summary %+v: want started, refused, the refusal counted as a stall", s)
	}
	if took > 4*time.Second || segments.Load() != 3 {
		t.Errorf("ran %v, %d segment requests: want it gone at the first 429", took, segments.Load())
	}
}

// TestPlayerKnowsNoWaitingRoom: a waiting room's hold, which a browser
// waits on, is an error to a plain player, and no refusal (a 503).
func TestPlayerKnowsNoWaitingRoom(t *testing.T) {
	t.Parallel()
	ts := startSynth(t, 0, func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"status":"queued","ticket":"t1","number":1,"position":1,"wait":1,"retry_after":0.25}`))
		})
	})
	env, rec := newEnv(t, ts.URL, sim.Params{"client": "player", "watch": "2s"})
	run(t.Context(), Models()["live-viewer"], env, sim.Client{Source: src(43)})
	s := rec.summary(t)
	if s.Started || s.Refused || s.Queued != 0 {
		t.Errorf("summary %+v: want never started, never queued, not refused", s)
	}
	if slices.Contains(rec.stateList(), sim.StateQueued) {
		t.Errorf("states %v: a plain player never waits in a queue", rec.stateList())
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.reqs) < 2 {
		t.Fatalf("%d requests: want the player to try its master again after a backoff", len(rec.reqs))
	}
	for _, q := range rec.reqs {
		if q.status != http.StatusServiceUnavailable || errors.Is(q.err, sim.ErrHeld) {
			t.Fatalf("a player's request recorded as %d %v: want a plain 503 (an error), not a hold", q.status, q.err)
		}
	}
}

// TestWebPageInPlaceOfMediaIsARefusal: a challenge page served with 200
// where a segment was asked is no segment, for a browser's player too.
func TestWebPageInPlaceOfMediaIsARefusal(t *testing.T) {
	t.Parallel()
	ts := startSynth(t, 0, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, ".ts") {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.Write([]byte("<!doctype html><form>prove you are human</form>"))
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	env, rec := newEnv(t, ts.URL, sim.Params{"watch": "2s"})
	run(t.Context(), Models()["live-viewer"], env, sim.Client{Source: src(44)})
	if s := rec.summary(t); s.Started || !s.Refused || s.Errors == 0 {
		t.Errorf("summary %+v: want never started, refused, errors", s)
	}
}

// TestBrowserHoldIsNoRefusal: what a browser's page handles (a hold it
// waits on) does not make it refused.
func TestBrowserHoldIsNoRefusal(t *testing.T) {
	t.Parallel()
	var masters atomic.Int32
	ts := startSynth(t, 0, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "master.m3u8") && masters.Add(1) == 1 {
				w.Header().Set("Retry-After", "1")
				http.Error(w, "limited", http.StatusTooManyRequests)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	env, rec := newEnv(t, ts.URL, sim.Params{"watch": "2s"})
	run(t.Context(), Models()["live-viewer"], env, sim.Client{Source: src(45)})
	if s := rec.summary(t); !s.Started || s.Refused {
		t.Errorf("summary %+v: want started after the hold, not refused", s)
	}
}

func TestCheckClient(t *testing.T) {
	for _, tc := range []struct {
		params sim.Params
		want   string // "" for valid
	}{
		{sim.Params{}, ""},
		{sim.Params{"client": "browser", "challenge_max_bits": 20}, ""},
		{sim.Params{"client": "player"}, ""},
		{sim.Params{"client": "player", "challenge_max_bits": 0}, ""},
		{sim.Params{"client": "ffmpeg"}, "client ffmpeg: want browser"},
		{sim.Params{"client": 3}, "client 3: want browser"},
		{sim.Params{"client": "player", "challenge_max_bits": 16}, "a plain player solves no challenge"},
	} {
		err := Models()["live-viewer"].(sim.ParamChecker).CheckParams(tc.params)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("CheckParams(%v) = %v, want %q", tc.params, err, tc.want)
		}
	}
	for name, m := range Models() {
		if _, ok := m.(sim.ParamChecker); !ok {
			t.Errorf("viewer model %s does not check its client parameter", name)
		}
	}
}

// TestRequestIsTheBotsViewerPrint: a player's request, before the target
// sets a cookie, is exactly what attack's fingerprint "viewer" sends (Host,
// User-Agent, Accept, in that order): change one, change the other.
func TestRequestIsTheBotsViewerPrint(t *testing.T) {
	for _, kind := range []string{clientBrowser, clientPlayer} {
		env, _ := newEnv(t, "http://127.0.0.1:9", sim.Params{"client": kind})
		cl := newClient(env, sim.Client{}, env.Params[0], time.Now)
		u, _ := url.Parse("http://127.0.0.1:9/live/240p/7.ts")
		got := string(cl.encode(&request{url: u}))
		if want := "GET /live/240p/7.ts HTTP/1.1\r\nHost: 127.0.0.1:9\r\nUser-Agent: rempart-siege/1\r\nAccept: */*\r\n\r\n"; got != want {
			t.Errorf("%s request:\n%q\nwant\n%q", kind, got, want)
		}
	}
}
