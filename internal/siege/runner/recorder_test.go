package runner

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/siege/report"
	"github.com/rempart/rempart/internal/siege/scenario"
	"github.com/rempart/rempart/internal/siege/sim"
)

func TestRecorderConcurrent(t *testing.T) {
	rec := NewRecorder(2)
	errBoom := errors.New("boom")
	var wg sync.WaitGroup
	const workers, each = 8, 2000
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				status := 200
				var err error
				if i%10 == 0 {
					status, err = 0, errBoom
				}
				rec.Request(w%2, sim.KindSegment, time.Now(), time.Duration(i)*time.Microsecond, status, 100, err)
				rec.State(w%2, sim.StateNone, sim.StatePlaying)
				rec.Conn(w%2, 1)
				rec.Segment(w%2, fmt.Sprintf("/live/low/%d.ts", i%50))
			}
			rec.Viewer(w%2, sim.ViewerSummary{Started: true, Startup: time.Second, Stalls: w % 2, Refused: w%2 == 1})
		})
	}
	var snaps []report.PopSecond
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 20 {
			s := rec.Snapshot()
			snaps = append(snaps, s[0], s[1])
			time.Sleep(time.Millisecond)
		}
	}()
	wg.Wait()
	<-done
	last := rec.Snapshot()
	snaps = append(snaps, last[0], last[1])
	var total int64
	for _, s := range snaps {
		total += s.Requests
	}
	if total != workers*each {
		t.Errorf("snapshots add up to %d requests, want %d", total, workers*each)
	}
	s := &scenario.Scenario{Populations: []scenario.Population{{Name: "a", Role: "viewer"}, {Name: "b", Role: "viewer"}}}
	pops := rec.Pops(s)
	p := pops[0]
	if p.Requests != workers/2*each || p.Errors != workers/2*each/10 || p.Status["error"] != int64(workers/2*each/10) ||
		p.Bytes != 100*workers/2*each || p.MaxConn != workers/2*each {
		t.Errorf("pop a: %+v", p)
	}
	if p.ByKind["segment"].Count != workers/2*each || p.Latency.Max < 1.9 {
		t.Errorf("latency %+v by kind %+v", p.Latency, p.ByKind)
	}
	if v := p.Viewers; v.Viewers != 4 || v.StallFree != 4 || pops[1].Viewers.StallFree != 0 || v.StartupMs.P50 < 990 ||
		v.Refused != 0 || pops[1].Viewers.Refused != 4 {
		t.Errorf("viewers %+v / %+v", v, pops[1].Viewers)
	}
	if rec.DistinctSegments() != 50 || rec.SegmentsServed() != workers*each*9/10 {
		t.Errorf("segments: %d distinct, %d served", rec.DistinctSegments(), rec.SegmentsServed())
	}
	if last[0].Playing != workers/2*each {
		t.Errorf("playing gauge %d", last[0].Playing)
	}
}

func TestRecorderRequestAllocs(t *testing.T) {
	rec := NewRecorder(1)
	now := time.Now()
	rec.Request(0, sim.KindSegment, now, time.Millisecond, 200, 1000, nil) // creates the kind's histograms
	if n := testing.AllocsPerRun(1000, func() {
		rec.Request(0, sim.KindSegment, now, time.Millisecond, 200, 1000, nil)
	}); n != 0 {
		t.Errorf("Request allocates %v times per call", n)
	}
}

func BenchmarkRecorderRequest(b *testing.B) {
	rec := NewRecorder(4)
	now := time.Now()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			rec.Request(i&3, sim.Kind(i%int(sim.NumKinds)), now, time.Duration(i&1023)*time.Microsecond, 200, 1500, nil)
		}
	})
}

func TestParseCounter(t *testing.T) {
	page := `# HELP rempart_cache_origin_fetches_total Origin fetches.
# TYPE rempart_cache_origin_fetches_total counter
rempart_cache_origin_fetches_total{site="a",class="segment"} 10
rempart_cache_origin_fetches_total{site="b}",class="x y"} 2.5 1712345678000
rempart_cache_origin_fetches_total_extra 1000
rempart_cache_origin_fetches_total 7
other 3
`
	v, found, err := ParseCounter(strings.NewReader(page), Selector{Name: DefaultOriginMetric})
	if err != nil || !found || v != 19.5 {
		t.Errorf("ParseCounter = %v, %v, %v; want 19.5", v, found, err)
	}
	if _, found, _ := ParseCounter(strings.NewReader(page), Selector{Name: "missing_total"}); found {
		t.Error("found a missing metric")
	}
}

func TestSelector(t *testing.T) {
	page := `rempart_requests_total{class="segment",outcome="miss"} 4
rempart_requests_total{class="segment",outcome="hit"} 100
rempart_requests_total{class="media_playlist",outcome="miss"} 7
`
	tests := []struct {
		sel  string
		want float64
	}{
		{`rempart_requests_total`, 111},
		{`rempart_requests_total{class="segment"}`, 104},
		{`rempart_requests_total{ class = "segment" , outcome="miss" }`, 4},
		{`rempart_requests_total{outcome="miss"}`, 11},
	}
	for _, tt := range tests {
		sel, err := ParseSelector(tt.sel)
		if err != nil {
			t.Fatalf("ParseSelector(%q): %v", tt.sel, err)
		}
		if v, _, err := ParseCounter(strings.NewReader(page), sel); err != nil || v != tt.want {
			t.Errorf("%s = %v, %v; want %v", tt.sel, v, err, tt.want)
		}
	}
	for _, bad := range []string{"", "{a=\"b\"}", `m{a=b}`, `m{a="b"`, `m{="x"}`, `m{a="b}`} {
		if _, err := ParseSelector(bad); err == nil {
			t.Errorf("ParseSelector(%q) accepted", bad)
		}
	}
}

func FuzzParseSelector(f *testing.F) {
	f.Add(`m{a="x",b="y\"z"}`)
	f.Fuzz(func(t *testing.T, s string) {
		if sel, err := ParseSelector(s); err == nil && sel.Name == "" {
			t.Fatalf("accepted %q with no name", s)
		}
	})
}

func FuzzParseCounter(f *testing.F) {
	f.Add("m{a=\"}\"} 1\nm 2\n")
	f.Fuzz(func(t *testing.T, page string) {
		_, _, _ = ParseCounter(strings.NewReader(page), Selector{Name: "m"})
	})
}

// TestOriginMetrics runs against an httptest "edge" that counts one origin
// fetch per distinct segment and exposes the counter.
func TestOriginMetrics(t *testing.T) {
	var fetches atomic.Int64
	var mu sync.Mutex
	seen := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" {
			// Every object's fetches, then by class: the playlist misses
			// must not count in the per-segment figure.
			fmt.Fprintf(w, "rempart_cache_origin_fetches_total %d\n", fetches.Load()+5)
			fmt.Fprintf(w, "rempart_requests_total{class=\"segment\",outcome=\"miss\"} %d\n", fetches.Load())
			fmt.Fprintf(w, "rempart_requests_total{class=\"segment\",outcome=\"hit\"} 999\n")
			fmt.Fprintf(w, "rempart_requests_total{class=\"media_playlist\",outcome=\"miss\"} 5\n")
			return
		}
		mu.Lock()
		if !seen[r.URL.Path] {
			seen[r.URL.Path] = true
			fetches.Add(1)
		}
		mu.Unlock()
	}))
	defer srv.Close()
	s := oneStep("seg", 100, 1500*time.Millisecond)
	s.Populations[0].Role = scenario.RoleViewer
	rep, err := Run(context.Background(), Config{Scenario: s, Models: map[string]sim.Model{"seg": segmentViewer{}},
		Target: srv.URL, OriginMetrics: srv.URL + "/metrics"})
	if err != nil {
		t.Fatal(err)
	}
	o := rep.Origin
	if o == nil || o.SegmentRequests != 10 || o.RequestsPerSegment != 1 || o.SegmentsServed < 140 {
		t.Fatalf("origin = %+v, want 10 segment requests, 1 per segment", o)
	}
	var perSecond float64
	for _, s := range rep.Series {
		if s.OriginRequests != nil {
			perSecond += *s.OriginRequests
		}
	}
	if perSecond > 10 || perSecond == 0 {
		t.Errorf("per-second origin requests add up to %v", perSecond)
	}
}

// segmentViewer fetches one of ten segments.
type segmentViewer struct{}

func (segmentViewer) Run(ctx context.Context, env *sim.Env, c sim.Client) {
	if !env.Budget.Take() {
		return
	}
	uri := fmt.Sprintf("/live/seg%d.ts", c.ID%10)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, env.Target.String()+uri, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		env.Rec.Request(c.Pop, sim.KindSegment, c.Intended, env.Now().Sub(c.Intended), 0, 0, err)
		return
	}
	resp.Body.Close()
	env.Rec.Request(c.Pop, sim.KindSegment, c.Intended, env.Now().Sub(c.Intended), resp.StatusCode, 0, nil)
	env.Rec.(sim.SegmentCounter).Segment(c.Pop, uri)
}

func TestProgressAndSummary(t *testing.T) {
	var b strings.Builder
	p := NewProgress(&b, false)
	pops := []scenario.Population{{Name: "viewers", Role: "viewer"}, {Name: "flood", Role: "attacker"}}
	p.Tick(Tick{Elapsed: 65 * time.Second, Phase: "kickoff", Pops: pops, Second: report.Second{Pops: []report.PopSecond{
		{Requests: 900, Errors: 9, Playing: 800, Starting: 100}, {Requests: 12000},
	}}})
	p.Close()
	want := "[kickoff 01:05] viewers: 100 starting, 800 playing, 0 stalled, 0 queued | req/s: viewers 900, flood 12.0k | errors 0.1%\n"
	if b.String() != want {
		t.Errorf("progress:\n%q\nwant\n%q", b.String(), want)
	}
	b.Reset()
	rep := &report.Report{Scenario: "kickoff", Target: "http://127.0.0.1:8080", Seconds: 60, Stopped: "completed",
		Pops: []report.Pop{{Name: "viewers", Model: "live-viewer", Requests: 10, Status: map[string]int64{"200": 10},
			Viewers: &report.Viewers{Viewers: 3}}},
		Checks: []report.Check{{Expr: "stall_free_viewers >= 0.99", Value: 0.5}}}
	if err := WriteSummary(&b, rep); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"siege kickoff", "live-viewer", "200:10", "viewers: 3 viewers", "FAIL  stall_free_viewers >= 0.99"} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("summary lacks %q:\n%s", w, b.String())
		}
	}
}

// TestRefusedAfter: the report says how long the target took to refuse a
// population, from its first answer to its first 403, 429 or 503.
func TestRefusedAfter(t *testing.T) {
	rec := NewRecorder(2)
	t0 := time.Unix(1000, 0)
	rec.Request(0, sim.KindAttack, t0, time.Millisecond, 200, 10, nil)
	rec.Request(0, sim.KindAttack, t0.Add(time.Second), time.Millisecond, 200, 10, nil)
	rec.Request(0, sim.KindAttack, t0.Add(2500*time.Millisecond), time.Millisecond, 429, 10, nil)
	rec.Request(0, sim.KindAttack, t0.Add(3*time.Second), time.Millisecond, 403, 10, nil)
	rec.Request(1, sim.KindSegment, t0, time.Millisecond, 200, 10, nil)
	s := &scenario.Scenario{Populations: []scenario.Population{{Name: "flood", Role: scenario.RoleAttacker}, {Name: "v", Role: scenario.RoleAttacker}}}
	pops := rec.Pops(s)
	if a := pops[0].RefusedAfterS; a == nil || *a < 2.49 || *a > 2.51 {
		t.Fatalf("flood refused after %v, want 2.5 s", a)
	}
	if pops[1].RefusedAfterS != nil {
		t.Fatalf("a population never refused has refused_after_s %v", *pops[1].RefusedAfterS)
	}
}

// TestRecorderHeld: a waiting-room hold (sim.ErrHeld) counts as held, in
// the population and in the second, never as an error; its status still
// counts; a 5xx without it is an error.
func TestRecorderHeld(t *testing.T) {
	rec := NewRecorder(1)
	t0 := time.Now()
	rec.Request(0, sim.KindMaster, t0, time.Millisecond, 503, 120, sim.ErrHeld)
	rec.Request(0, sim.KindMaster, t0, time.Millisecond, 429, 40, fmt.Errorf("master: %w", sim.ErrHeld))
	rec.Request(0, sim.KindMaster, t0, time.Millisecond, 503, 10, nil)
	rec.Request(0, sim.KindMaster, t0, time.Millisecond, 200, 900, nil)
	sec := rec.Snapshot()[0]
	if sec.Requests != 4 || sec.Held != 2 || sec.Errors != 1 {
		t.Errorf("second: %d requests, %d held, %d errors; want 4, 2, 1", sec.Requests, sec.Held, sec.Errors)
	}
	p := rec.Pops(&scenario.Scenario{Populations: []scenario.Population{{Name: "v", Role: scenario.RoleViewer}}})[0]
	if p.Requests != 4 || p.Held != 2 || p.Errors != 1 || p.Status["503"] != 2 || p.Status["429"] != 1 {
		t.Errorf("population: %+v; want 4 requests, 2 held, 1 error, statuses 503:2 429:1", p)
	}
	var b strings.Builder
	NewProgress(&b, false).Tick(Tick{Phase: "p", Pops: []scenario.Population{{Name: "v", Role: "viewer"}}, Second: report.Second{Pops: []report.PopSecond{sec}}})
	if !strings.Contains(b.String(), "errors 50.0%, 2 held") {
		t.Errorf("progress %q: want the error share of the 2 requests not held, and the holds", b.String())
	}
}
