package cache

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
)

// origin failure modes, switchable during a test.
const (
	modeOK = iota
	mode500
	modeHang
	modeRefused
)

// flakyOrigin answers body with header, or fails as its mode says.
type flakyOrigin struct {
	mode   atomic.Int32
	n      atomic.Int64
	header []string
	body   func(n int64) string
}

func (o *flakyOrigin) serve(w http.ResponseWriter, r *http.Request) {
	switch o.mode.Load() {
	case mode500:
		http.Error(w, "origin broken", http.StatusInternalServerError)
		return
	case modeHang:
		<-r.Context().Done()
		return
	}
	for i := 0; i+1 < len(o.header); i += 2 {
		w.Header().Set(o.header[i], o.header[i+1])
	}
	w.Write([]byte(o.body(o.n.Add(1))))
}

func (o *flakyOrigin) fail(e *env, mode int32) {
	o.mode.Store(mode)
	if mode == modeRefused {
		e.fetch.point(deadAddr(e.t))
	}
}

// TestPlaylistOriginDying: the last good media playlist is served up to one
// target duration past its fetch, then the client gets a clear error.
func TestPlaylistOriginDying(t *testing.T) {
	tests := []struct {
		name string
		mode int32
		code int // after the bound
	}{
		{"500", mode500, http.StatusInternalServerError},
		{"hanging", modeHang, http.StatusGatewayTimeout},
		{"refused", modeRefused, http.StatusBadGateway},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			org := &flakyOrigin{body: func(int64) string { return playlist }}
			o := defaultOpts()
			o.fetchTimeout = 200 * time.Millisecond
			e := newEnv(t, org.serve, o)
			if r := e.do("GET", "/live/a.m3u8", telemetry.ClassMedia); r.code != 200 || r.rec.Class != telemetry.ClassMedia {
				t.Fatalf("first: %d %v", r.code, r.rec.Class)
			}
			org.fail(e, tt.mode)
			e.clock.Advance(3 * time.Second) // stale (fresh for target/2 = 2s), within the bound
			r := e.do("GET", "/live/a.m3u8", telemetry.ClassMedia)
			if r.code != 200 || r.body != playlist || r.rec.Outcome != telemetry.OutcomeStale {
				t.Fatalf("within bound: %d %v %s", r.code, r.rec.Outcome, r.rec.Reason)
			}
			e.clock.Advance(1500 * time.Millisecond) // 4.5s > one target duration
			r = e.do("GET", "/live/a.m3u8", telemetry.ClassMedia)
			if r.code != tt.code || r.rec.Outcome != telemetry.OutcomeError {
				t.Fatalf("past bound: %d %v %s", r.code, r.rec.Outcome, r.rec.Reason)
			}
			st := e.store.Stats()
			if st.PlaylistStaleServed.Load() != 1 || st.PlaylistRefreshFailures.Load() != 2 {
				t.Fatalf("stale served %d, refresh failures %d", st.PlaylistStaleServed.Load(), st.PlaylistRefreshFailures.Load())
			}
			if tt.mode != mode500 && st.PlaylistTooOld.Load() != 1 {
				t.Fatalf("too old %d", st.PlaylistTooOld.Load())
			}
		})
	}
}

// TestStaleWhileRevalidate: stale copies are served at once and one
// background fetch refreshes the object, however many requests see it.
func TestStaleWhileRevalidate(t *testing.T) {
	org := &flakyOrigin{
		header: []string{"Cache-Control", "max-age=1, stale-while-revalidate=10"},
		body:   func(n int64) string { return "v" + strconv.FormatInt(n, 10) },
	}
	gate := make(chan struct{})
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		if org.n.Load() > 0 {
			<-gate // hold the refresh until every stale request is served
		}
		org.serve(w, r)
	}, defaultOpts())
	e.do("GET", "/api/list", telemetry.ClassAPI)
	e.clock.Advance(2 * time.Second)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			r := e.do("GET", "/api/list", telemetry.ClassAPI)
			if r.body != "v1" || r.rec.Outcome != telemetry.OutcomeStale || r.header.Get("Age") != "2" {
				t.Errorf("stale: %q %v age %q", r.body, r.rec.Outcome, r.header.Get("Age"))
			}
		})
	}
	wg.Wait()
	close(gate)
	waitFor(t, "refresh stored", func() bool {
		en := e.store.get("site:/api/list")
		return en != nil && string(en.body) == "v2"
	})
	if got := e.fetches.Load(); got != 2 {
		t.Fatalf("origin fetches = %d, want 2", got)
	}
	if r := e.do("GET", "/api/list", telemetry.ClassAPI); r.body != "v2" || r.rec.Outcome != telemetry.OutcomeHit {
		t.Fatalf("after refresh: %q %v", r.body, r.rec.Outcome)
	}
	if e.store.Stats().BackgroundRefreshes.Load() != 1 {
		t.Fatal("refreshes not counted once")
	}
}

// TestStaleIfError: within the origin's stale-if-error a failing origin is
// hidden; after it the client gets the error.
func TestStaleIfError(t *testing.T) {
	tests := []struct {
		name string
		mode int32
		code int
	}{
		{"500", mode500, http.StatusInternalServerError},
		{"timeout", modeHang, http.StatusGatewayTimeout},
		{"refused", modeRefused, http.StatusBadGateway},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			org := &flakyOrigin{
				header: []string{"Cache-Control", "max-age=1, stale-while-revalidate=0, stale-if-error=5"},
				body:   func(int64) string { return "good" },
			}
			o := defaultOpts()
			o.fetchTimeout = 200 * time.Millisecond
			e := newEnv(t, org.serve, o)
			e.do("GET", "/vod/track.mp3", telemetry.ClassOnDemand)
			org.fail(e, tt.mode)
			e.clock.Advance(3 * time.Second)
			if r := e.do("GET", "/vod/track.mp3", telemetry.ClassOnDemand); r.body != "good" || r.rec.Outcome != telemetry.OutcomeStale {
				t.Fatalf("within stale-if-error: %d %q %v", r.code, r.body, r.rec.Outcome)
			}
			e.clock.Advance(4 * time.Second)
			if r := e.do("GET", "/vod/track.mp3", telemetry.ClassOnDemand); r.code != tt.code || r.rec.Outcome != telemetry.OutcomeError {
				t.Fatalf("past stale-if-error: %d %v", r.code, r.rec.Outcome)
			}
		})
	}
}

// TestRevalidation304: a stale copy with validators is revalidated; the 304
// refreshes it and the client gets the stored body.
func TestRevalidation304(t *testing.T) {
	var conditional atomic.Int64
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=1")
		w.Header().Set("Etag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			conditional.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Write([]byte("payload"))
	}, defaultOpts())
	e.do("GET", "/api/cfg", telemetry.ClassAPI)
	e.clock.Advance(2 * time.Second)
	r := e.do("GET", "/api/cfg", telemetry.ClassAPI)
	if r.code != 200 || r.body != "payload" || r.rec.Reason != "revalidated" {
		t.Fatalf("revalidated: %d %q %s", r.code, r.body, r.rec.Reason)
	}
	if conditional.Load() != 1 || e.store.Stats().Revalidations.Load() != 1 {
		t.Fatal("no conditional fetch")
	}
	if r := e.do("GET", "/api/cfg", telemetry.ClassAPI); r.rec.Outcome != telemetry.OutcomeHit {
		t.Fatalf("not fresh after 304: %v", r.rec.Outcome)
	}
}
