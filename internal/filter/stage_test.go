package filter

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/mitigation"
	"github.com/rempart/rempart/internal/telemetry"
)

// serveStage runs one request through a Stage with a record as the edge
// makes it.
func serveStage(st *Stage, client string, start time.Time) (*httptest.ResponseRecorder, telemetry.Record) {
	rr := httptest.NewRecorder()
	tw := telemetry.NewWriter(rr, start)
	defer tw.Release()
	tw.Rec.Client = netip.MustParseAddr(client)
	tw.Rec.Class = telemetry.ClassAPI
	st.ServeHTTP(tw, httptest.NewRequest(http.MethodGet, "http://edge.example/api/x", nil))
	return rr, tw.Rec
}

func TestStageRefusesAndPasses(t *testing.T) {
	s, clk := newShield(t, config.Shield{Rates: []config.RateLimit{{Key: "ip", Rate: 0.2, Burst: 1}}})
	s.Block(mustPrefix("203.0.113.0/24"), time.Hour, "x", "operator")
	next := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("origin")) })
	st := &Stage{Shield: s, Next: next}

	rr, rec := serveStage(st, "198.51.100.1", clk.Now())
	if rr.Code != 200 || rr.Body.String() != "origin" || rec.Action != "" {
		t.Fatalf("first request: %d %q action %q", rr.Code, rr.Body, rec.Action)
	}
	rr, rec = serveStage(st, "198.51.100.1", clk.Now())
	if rr.Code != 429 || rr.Header().Get("Retry-After") != "5" || rec.Action != "rate_limited" ||
		rec.Stage != "filter" || rec.Reason != "rate_limited" || rec.Outcome != telemetry.OutcomeRefused {
		t.Fatalf("over the limit: %d Retry-After %q record %+v", rr.Code, rr.Header().Get("Retry-After"), rec)
	}
	rr, rec = serveStage(st, "203.0.113.1", clk.Now())
	if rr.Code != 403 || rr.Header().Get("Retry-After") != "" || rec.Action != "blocked" || rr.Body.Len() > 32 {
		t.Fatalf("blocked: %d %q action %q", rr.Code, rr.Body, rec.Action)
	}
	s.Apply(mitigation.Mitigation{ID: "s", Kind: mitigation.ShedRoute, Path: "/api/", Rate: 1, Reason: "r"})
	serveStage(st, "198.51.100.9", clk.Now())
	rr, rec = serveStage(st, "198.51.100.10", clk.Now())
	if rr.Code != 503 || rr.Header().Get("Retry-After") != "1" || rec.Action != "shed" {
		t.Fatalf("shed: %d Retry-After %q action %q", rr.Code, rr.Header().Get("Retry-After"), rec.Action)
	}
}

func TestStageShadowPasses(t *testing.T) {
	s, clk := newShield(t, config.Shield{Mode: "shadow"})
	s.Block(mustPrefix("203.0.113.0/24"), time.Hour, "x", "operator")
	st := &Stage{Shield: s, Next: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("origin")) })}
	rr, rec := serveStage(st, "203.0.113.1", clk.Now())
	if rr.Code != 200 || rec.Action != "shadow:blocked" {
		t.Fatalf("shadow: %d action %q", rr.Code, rec.Action)
	}
	if s.Stats().Shadowed[ReasonBlocked].Load() != 1 || s.Stats().Refused[ReasonBlocked].Load() != 0 {
		t.Fatal("shadow refusal not counted as such")
	}
}

// TestShieldMemoryBoundedMillionClients runs a million distinct addresses
// through two limiters: their tables stay at max_keys and the heap with
// them.
func TestShieldMemoryBoundedMillionClients(t *testing.T) {
	if testing.Short() {
		t.Skip("a million clients (skipped under -short)")
	}
	const maxKeys = 50_000
	s, clk := newShield(t, config.Shield{MaxKeys: maxKeys, Rates: []config.RateLimit{{Key: "ip", Rate: 10}, {Key: "prefix", Rate: 100}}})
	before := heapInUse()
	rec, r := request("10.0.0.0", telemetry.ClassSegment, "/seg.ts")
	now := clk.Now()
	for range 1_000_000 {
		rec.Client = rec.Client.Next()
		s.Decide(rec, r, now)
	}
	grown := heapInUse() - before
	for i, l := range *s.limits.Load() {
		if n := l.table.len(); n > maxKeys+len(l.table.shards) {
			t.Errorf("limiter %d holds %d keys, want at most %d", i, n, maxKeys)
		}
	}
	if limit := uint64(32 << 20); grown > limit {
		t.Fatalf("heap grew %d MiB for two tables of %d keys, want under %d MiB", grown>>20, maxKeys, limit>>20)
	}
	t.Logf("1,000,000 clients: heap +%.1f MiB", float64(grown)/(1<<20))
	runtime.KeepAlive(s)
}

// TestConcurrentDecideAndChanges runs requests while the detector, an
// operator and reloads change the state: for the race detector.
func TestConcurrentDecideAndChanges(t *testing.T) {
	s, clk := newShield(t, config.Shield{Rates: []config.RateLimit{{Key: "ip", Rate: 100}}})
	st := &Stage{Shield: s, Next: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})}
	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := netip.AddrFrom4([4]byte{203, 0, 113, byte(w)})
			for {
				select {
				case <-done:
					return
				default:
				}
				a = a.Next()
				serveStage(st, a.String(), clk.Now())
				s.StripParams(telemetry.ClassSegment)
				s.AttackMode()
			}
		}()
	}
	for i := range 200 {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{203, 0, byte(i), 0}), 24)
		s.Block(p, time.Second, "x", "operator")
		s.Apply(mitigation.Mitigation{ID: "t", Kind: mitigation.ThrottleFingerprint, Fingerprint: uint64(i%3 + 1), Rate: 5, Reason: "r"})
		s.Apply(mitigation.Mitigation{ID: "a", Kind: mitigation.AttackMode, Reason: "r", Until: clk.Now().Add(time.Second)})
		if i%20 == 0 {
			s.SetRates([]config.RateLimit{{Key: "prefix", Rate: float64(i + 1)}})
			s.Lift("a")
			s.Blocks()
			s.Active(clk.Now())
		}
		clk.Add(100 * time.Millisecond)
		s.Sweep(clk.Now())
	}
	close(done)
	wg.Wait()
}
