package cache

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
)

// feed offers n judged misses to g at now, each answered status.
func feed(g *unknownGate, now time.Time, n, status int) {
	for range n {
		if g.admit(now) == gatePass {
			g.observe(now, status)
		}
	}
}

func TestUnknownGateCloses(t *testing.T) {
	t0 := time.Unix(1e9, 0)
	tests := []struct {
		name  string
		feed  func(g *unknownGate)
		close bool
	}{
		{"16 of 16 not found", func(g *unknownGate) { feed(g, t0, 16, 404) }, true},
		{"410 counts as not found", func(g *unknownGate) { feed(g, t0, 8, 404); feed(g, t0, 8, 410) }, true},
		{"15 misses are too few", func(g *unknownGate) { feed(g, t0, 15, 404) }, false},
		{"under 90 % not found", func(g *unknownGate) { feed(g, t0, 2, 200); feed(g, t0, 14, 404) }, false},
		{"90 % not found", func(g *unknownGate) { feed(g, t0, 2, 403); feed(g, t0, 18, 404) }, true},
		{"within 30 s", func(g *unknownGate) { feed(g, t0, 8, 404); feed(g, t0.Add(20*time.Second), 8, 404) }, true},
		{"spread past 30 s", func(g *unknownGate) { feed(g, t0, 8, 404); feed(g, t0.Add(31*time.Second), 8, 404) }, false},
		// An overloaded origin's 503s say nothing of the names: the 404s
		// among them are what the gate judges by.
		{"503s count for nothing", func(g *unknownGate) { feed(g, t0, 40, 503); feed(g, t0, 16, 404) }, true},
		{"503s alone never close", func(g *unknownGate) { feed(g, t0, 40, 503) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &unknownGate{}
			tt.feed(g)
			if g.closed != tt.close {
				t.Fatalf("closed = %v, want %v", g.closed, tt.close)
			}
		})
	}
}

func TestUnknownGateProbesAndReopens(t *testing.T) {
	t0 := time.Unix(1e9, 0)
	g := &unknownGate{}
	feed(g, t0, 16, 404)
	if g.admit(t0.Add(500*time.Millisecond)) == gatePass {
		t.Fatal("closed gate admitted a miss before a second passed")
	}
	if g.admit(t0.Add(time.Second)) != gatePass {
		t.Fatal("closed gate admitted no probe after a second")
	}
	if g.admit(t0.Add(time.Second)) == gatePass {
		t.Fatal("closed gate admitted a second probe in the same second")
	}
	g.observe(t0.Add(time.Second), 404)
	if !g.closed {
		t.Fatal("a probe that found nothing reopened the gate")
	}
	g.observe(t0.Add(time.Second), 200)
	if g.closed || (g.admit(t0.Add(time.Second)) != gatePass) {
		t.Fatal("a probe that found an object did not reopen the gate")
	}

	t2 := t0.Add(2 * time.Second)
	feed(g, t2, 16, 404)
	last := t2.Add(20 * time.Second)
	g.admit(last) // a judged miss, refused or probing, keeps the gate closed
	if g.admit(last.Add(unknownQuiet - time.Second)); !g.closed {
		t.Fatal("the gate reopened 29 s after a judged miss")
	}
	last = last.Add(unknownQuiet - time.Second)
	if (g.admit(last.Add(unknownQuiet)) != gatePass) || g.closed {
		t.Fatal("the gate did not reopen after 30 s without judged misses")
	}
}

// TestUnknownNameGate: the cache stage answers a flood of made-up segment
// names 404 once the origin said 404 to nearly all of them, lets one a
// second through, and reopens when one is found; listed, cached, in-scope
// and non-segment requests are never refused.
func TestUnknownNameGate(t *testing.T) {
	var exists atomic.Bool
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		if !exists.Load() && !strings.HasPrefix(r.URL.Path, "/live/") {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.Write([]byte("x"))
	}, defaultOpts())
	e.h.Listed = listedUnder("/live/")
	e.h.InScope = func(p string) bool { return strings.HasPrefix(p, "/scope/") }
	name := 0
	miss := func(dir string, cls telemetry.Class) result {
		name++
		return e.do("GET", fmt.Sprintf("/%s/x%d.ts", dir, name), cls)
	}
	for range unknownMinMisses {
		if r := miss("bots", telemetry.ClassSegment); r.code != 404 || r.rec.Reason == reasonUnknownName {
			t.Fatalf("before the gate closed: %d %q", r.code, r.rec.Reason)
		}
	}
	before := e.fetches.Load()
	r := miss("bots", telemetry.ClassSegment)
	if r.code != 404 || r.rec.Reason != reasonUnknownName || r.rec.Outcome != telemetry.OutcomeRefused {
		t.Fatalf("closed gate: %d %q %v, want a local 404 (%s)", r.code, r.rec.Reason, r.rec.Outcome, reasonUnknownName)
	}
	if e.fetches.Load() != before || e.store.stats.UnknownRefused.Load() != 1 {
		t.Fatalf("closed gate: origin fetches +%d, refused %d; want +0, 1", e.fetches.Load()-before, e.store.stats.UnknownRefused.Load())
	}
	for _, tt := range []struct {
		dir string
		cls telemetry.Class
	}{{"live", telemetry.ClassSegment}, {"scope", telemetry.ClassSegment}, {"bots", telemetry.ClassAPI}} {
		if r := miss(tt.dir, tt.cls); r.rec.Reason == reasonUnknownName {
			t.Errorf("/%s %v refused by the gate", tt.dir, tt.cls)
		}
	}

	e.clock.Advance(unknownProbeEvery)
	exists.Store(true) // the names start to exist: the next probe finds one
	if r := miss("bots", telemetry.ClassSegment); r.code != 200 {
		t.Fatalf("probe: %d %q, want 200 from the origin", r.code, r.rec.Reason)
	}
	if r := miss("bots", telemetry.ClassSegment); r.code != 200 {
		t.Fatalf("after a probe found an object: %d %q, want 200", r.code, r.rec.Reason)
	}

	exists.Store(false)
	e.h.NoUnknownGate = true
	for range 2 * unknownMinMisses {
		if r := miss("bots", telemetry.ClassSegment); r.rec.Reason == reasonUnknownName {
			t.Fatal("NoUnknownGate: a miss was refused by the gate")
		}
	}
}

// TestUnknownGateBoundsUndecided: while the gate is open, at most
// unknownInFlight judged misses are at the origin at once; the rest are
// answered busy until answers come back (a botnet's first burst cannot
// all reach the origin before the gate has its evidence).
func TestUnknownGateBoundsUndecided(t *testing.T) {
	t0 := time.Unix(1e9, 0)
	g := &unknownGate{}
	for range unknownInFlight {
		if g.admit(t0) != gatePass {
			t.Fatal("refused under the bound")
		}
		g.sent()
	}
	if v := g.admit(t0); v != gateBusy {
		t.Fatalf("verdict %d past the bound, want busy", v)
	}
	g.observe(t0, 404)
	if g.admit(t0) != gatePass {
		t.Fatal("an answer frees a place")
	}
}
