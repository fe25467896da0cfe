package viewer

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/siege/sim"
)

func TestOnDemandRangesAdvance(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	ranges := map[string][]int64{} // track → range starts
	ts := startSynth(t, 0, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if v, ok := strings.CutPrefix(r.Header.Get("Range"), "bytes="); ok {
				a, _, _ := strings.Cut(v, "-")
				n, _ := strconv.ParseInt(a, 10, 64)
				mu.Lock()
				ranges[r.URL.Path] = append(ranges[r.URL.Path], n)
				mu.Unlock()
			}
			next.ServeHTTP(w, r)
		})
	})
	env, rec := newEnv(t, ts.URL, sim.Params{"watch": "4s", "chunk": 65536, "skip": 0.0, "catalog": "/api/catalog"})
	run(t.Context(), Models()["ondemand-listener"], env, sim.Client{Source: src(8)})
	s := rec.summary(t)
	if !s.Started || s.Stalls != 0 || s.Watched < 3*time.Second || s.Bitrate != 22050*16 {
		t.Errorf("summary %+v: want 3s+ of audio at 352800 bit/s, no stall", s)
	}
	if rec.count(sim.KindAPI) != 1 {
		t.Errorf("%d catalog requests, want 1", rec.count(sim.KindAPI))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ranges) == 0 {
		t.Fatal("no Range request")
	}
	for path, starts := range ranges {
		if starts[0] != 0 || len(starts) < 3 {
			t.Errorf("%s: range starts %v, want 0 then more", path, starts)
		}
		for i := 1; i < len(starts); i++ {
			if starts[i] != starts[i-1]+65536 {
				t.Errorf("%s: range starts %v do not advance by the chunk", path, starts)
			}
		}
	}
}

func TestWavFormat(t *testing.T) {
	h := []byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x22\x56\x00\x00\x44\xac\x00\x00\x02\x00\x10\x00data\x00\x00\x00\x00")
	if rate, off, ok := wavFormat(h); !ok || rate != 44100 || off != 44 {
		t.Errorf("wavFormat = %v, %d, %v", rate, off, ok)
	}
	for _, bad := range [][]byte{nil, []byte("RIFF"), h[:30], []byte("ID3\x03 not a wav file at all")} {
		if _, _, ok := wavFormat(bad); ok {
			t.Errorf("wavFormat(%q) accepted", bad)
		}
	}
	for in, want := range map[string]int64{"bytes 0-99/1000": 1000, "bytes 0-99/*": -1, "": -1} {
		if got := contentRangeSize(in); got != want {
			t.Errorf("contentRangeSize(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestAppUserKeepsSession(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var log []string // path and session cookie of every request
	ts := startSynth(t, 0, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, _ := r.Cookie("session")
			v := ""
			if c != nil {
				v = c.Value
			}
			mu.Lock()
			log = append(log, r.Method+" "+r.URL.Path+" "+v)
			mu.Unlock()
			next.ServeHTTP(w, r)
		})
	})
	env, rec := newEnv(t, ts.URL, sim.Params{"watch": "1s", "think": "50ms-100ms"})
	run(t.Context(), Models()["app-user"], env, sim.Client{ID: 7, Source: src(9)})
	s := rec.summary(t)
	if !s.Started || s.Errors != 0 {
		t.Errorf("summary %+v", s)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(log) < 4 || log[0] != "POST /api/login " {
		t.Fatalf("requests %v: want a login first, then browsing", log)
	}
	session := strings.Fields(log[1])[2]
	for _, l := range log[1:] {
		if f := strings.Fields(l); len(f) != 3 || f[2] != session || (f[1] != "/api/catalog" && f[1] != "/api/search") {
			t.Errorf("request %q: want catalog or search with session %s", l, session)
		}
	}
}
