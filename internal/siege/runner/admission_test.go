package runner

import (
	"context"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/siege/report"
	"github.com/rempart/rempart/internal/siege/scenario"
	"github.com/rempart/rempart/internal/siege/sim"
)

func TestFIFOViolations(t *testing.T) {
	// v(arrived, ticketed, seq); ticketed 0: admitted directly.
	v := func(a, tk, seq int64) fifoViewer { return fifoViewer{arrived: a, ticketed: tk, seq: seq} }
	tests := []struct {
		name            string
		vs              []fifoViewer
		pairs, involved int64
	}{
		{"none", nil, 0, 0},
		{"in order", []fifoViewer{v(1, 2, 1), v(3, 4, 2), v(5, 6, 3)}, 0, 0},
		{"direct then queued, in order", []fifoViewer{v(1, 0, 1), v(2, 0, 2), v(3, 4, 3), v(5, 6, 4)}, 0, 0},
		{"one inversion", []fifoViewer{v(1, 2, 2), v(3, 4, 1)}, 1, 2},
		{"direct admission jumps the queue", []fifoViewer{v(1, 2, 2), v(5, 0, 1)}, 1, 2},
		{"direct admission before the ticket is no jump", []fifoViewer{v(3, 4, 2), v(1, 0, 1)}, 0, 0},
		{"tie: arrived the instant the ticket came", []fifoViewer{v(1, 5, 2), v(5, 6, 1)}, 0, 0},
		{"overlap: both queued before either had a ticket", []fifoViewer{v(1, 4, 2), v(2, 3, 1)}, 0, 0},
		{"equal sequence numbers", []fifoViewer{v(1, 2, 1), v(3, 4, 1)}, 0, 0},
		{"one overtakes three", []fifoViewer{v(1, 2, 2), v(3, 4, 3), v(5, 6, 4), v(7, 0, 1)}, 3, 4},
		{"reversed (LIFO)", []fifoViewer{v(1, 2, 4), v(3, 4, 3), v(5, 6, 2), v(7, 8, 1)}, 6, 4},
		{"one late grant among many", []fifoViewer{v(1, 2, 5), v(3, 4, 1), v(5, 6, 2), v(7, 8, 3), v(9, 10, 4), v(11, 12, 6)}, 4, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pairs, involved := fifoViolations(tt.vs)
			if pairs != tt.pairs || involved != tt.involved {
				t.Errorf("fifoViolations = %d pairs, %d viewers; want %d, %d", pairs, involved, tt.pairs, tt.involved)
			}
		})
	}
}

// TestFIFOViolationsAgainstPairs checks the O(n log n) count against the
// definition, pair by pair, on random admissions.
func TestFIFOViolationsAgainstPairs(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 200 {
		n := rng.IntN(40)
		vs := make([]fifoViewer, n)
		for i := range vs {
			a := rng.Int64N(50)
			vs[i] = fifoViewer{arrived: a, seq: rng.Int64N(30)}
			if rng.IntN(3) > 0 {
				vs[i].ticketed = a + 1 + rng.Int64N(10)
			}
		}
		var want, wantInvolved int64
		in := make([]bool, n)
		for i, a := range vs {
			for j, b := range vs {
				if a.ticketed != 0 && a.ticketed < b.arrived && b.seq < a.seq {
					want++
					in[i], in[j] = true, true
				}
			}
		}
		for _, x := range in {
			if x {
				wantInvolved++
			}
		}
		if got, involved := fifoViolations(vs); got != want || involved != wantInvolved {
			t.Fatalf("round %d: %d pairs, %d viewers; want %d, %d (%+v)", round, got, involved, want, wantInvolved, vs)
		}
	}
}

func BenchmarkFIFOViolations(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	vs := make([]fifoViewer, 100_000)
	for i := range vs {
		vs[i] = fifoViewer{arrived: int64(i) * 10, ticketed: int64(i)*10 + 5, seq: int64(i) + rng.Int64N(50)}
	}
	for b.Loop() {
		fifoViolations(vs)
	}
}

func TestWaitError(t *testing.T) {
	s := func(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
	tests := []struct {
		displayed, actual, poll float64
		rel                     float64
		within                  bool
	}{
		{40, 40, 1, 0, true},
		{52, 40, 1, 0.3, true},    // exactly 30 % over
		{28, 40, 1, 0.3, true},    // exactly 30 % under
		{53, 40, 1, 0.325, false}, // over 30 %, more than a poll away
		{5, 2, 10, 1.5, true},     // 150 % off, but within one poll (10 s) of the truth
		{5, 2, 2.9, 1.5, false},   // 3 s off with polls of 2.9 s
		{0, 0.5, 1, 1, true},      // displayed 0, admitted at the next poll
	}
	for _, tt := range tests {
		rel, within := waitError(s(tt.displayed), s(tt.actual), s(tt.poll))
		if d := rel - tt.rel; d > 1e-9 || d < -1e-9 || within != tt.within {
			t.Errorf("waitError(%v, %v, poll %v) = %v, %v; want %v, %v", tt.displayed, tt.actual, tt.poll, rel, within, tt.rel, tt.within)
		}
	}
}

// TestAdmissionAccount: the section's counts, FIFO, wait accuracy,
// playback and per-second admissions from a handful of records.
func TestAdmissionAccount(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	played := []sim.Played{{Rendition: "/live/480p/index.m3u8", Bandwidth: 1.2e6, Time: 30 * time.Second},
		{Rendition: "/live/240p/index.m3u8", Bandwidth: 0.4e6, Time: 10 * time.Second}}
	rec := NewRecorder(1)
	add := func(a sim.Admission, started bool, stalls int) {
		a.Wait = cmpOr(a.Wait, sim.NoWait)
		rec.Viewer(0, sim.ViewerSummary{Started: started, Stalls: stalls, Admission: &a})
	}
	// Two direct admissions, one of which stalled.
	add(sim.Admission{Arrived: at(0.1), Admitted: at(0.2), Seq: 1, Left: at(30), Played: played}, true, 0)
	add(sim.Admission{Arrived: at(0.3), Admitted: at(0.4), Seq: 2, Left: at(30)}, true, 1)
	// Queued, admitted in order, wait shown 10 s, came true in 9.
	add(sim.Admission{Arrived: at(1), Ticketed: at(1.1), Wait: 10 * time.Second, WaitAt: at(1.1), Poll: time.Second,
		Admitted: at(10.1), Seq: 3, Left: at(30)}, true, 0)
	// Queued before the next one, admitted after it: overtaken, and its
	// wait (shown 2 s, took 20) was wrong.
	add(sim.Admission{Arrived: at(2), Ticketed: at(2.1), Wait: 2 * time.Second, WaitAt: at(2.1), Poll: time.Second,
		Admitted: at(22.1), Seq: 5, Left: at(30), Refused: "ticket_used"}, true, 0)
	add(sim.Admission{Arrived: at(3), Ticketed: at(3.1), Admitted: at(12.1), Seq: 4, Left: at(30), Limited: true}, true, 0)
	// Admitted at the very end, cut before its first picture: not judged.
	add(sim.Admission{Arrived: at(4), Ticketed: at(4.1), Admitted: at(29.5), Seq: 6, Left: at(30), RunEnded: true}, false, 0)
	// Still waiting, gave up, never answered, never sent anything.
	add(sim.Admission{Arrived: at(5), Ticketed: at(5.1), Left: at(30), RunEnded: true}, false, 0)
	add(sim.Admission{Arrived: at(6), Ticketed: at(6.1), Left: at(16)}, false, 0)
	add(sim.Admission{Arrived: at(7), Left: at(8), Refused: "account_limit"}, false, 0)
	add(sim.Admission{}, false, 0)

	series := make([]report.Second, 30)
	a := rec.Admission(t0, series)
	want := report.Admission{Viewers: 9, AdmittedDirectly: 2, Queued: 6, AdmittedFromQueue: 4, StillWaiting: 1, GaveUp: 1,
		NotAdmitted: 3, Refused: 2, Limited: 1,
		QueueTime: report.Spread{Count: 4, P50: 9, P95: 25.4, Max: 25.4},
		FIFO:      report.FIFO{Measured: true, Sequenced: 6, Violations: 1, ViewersInvolved: 2},
		Playback:  report.Playback{Viewers: 5, StallFree: 4, StallFreeRatio: 0.8, UnstartedAtEnd: 1, MeanBitrate: 1e6},
	}
	got := *a
	got.RefusedReasons, got.WaitAccuracy, got.Renditions = nil, report.WaitAccuracy{}, nil
	if got.QueueTime.P95 > 25.39 && got.QueueTime.P95 < 25.41 && got.QueueTime.Max == got.QueueTime.P95 {
		got.QueueTime.P95, got.QueueTime.Max = 25.4, 25.4
	}
	if got.QueueTime.P50 > 8.99 && got.QueueTime.P50 < 9.01 {
		got.QueueTime.P50 = 9
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("admission\n%+v\nwant\n%+v", got, want)
	}
	if r := a.RefusedReasons; len(r) != 2 || r["ticket_used"] != 1 || r["account_limit"] != 1 {
		t.Errorf("refused reasons %v", r)
	}
	if w := a.WaitAccuracy; w.Count != 2 || w.Within != 1 || w.WithinRatio != 0.5 || w.ErrorP50 > 0.12 || w.ErrorP95 < 0.89 {
		t.Errorf("wait accuracy %+v: want 1 of 2 within", w)
	}
	if r := a.Renditions; len(r) != 2 || r[0].Rendition != "/live/240p/index.m3u8" || r[0].Share != 0.25 || r[1].Seconds != 30 {
		t.Errorf("renditions %+v", r)
	}
	var perSecond int64
	for _, s := range series {
		perSecond += s.Admitted
	}
	if perSecond != 6 || series[10].Admitted != 1 || series[0].Admitted != 2 {
		t.Errorf("per-second admissions add up to %d (second 0: %d, 10: %d), want 6", perSecond, series[0].Admitted, series[10].Admitted)
	}
	if NewRecorder(1).Admission(t0, nil) != nil {
		t.Error("an admission section without records")
	}
}

func TestSummaryAdmission(t *testing.T) {
	var b strings.Builder
	rep := &report.Report{Scenario: "waiting-room", Admission: &report.Admission{Viewers: 10, AdmittedDirectly: 3, Queued: 7,
		AdmittedFromQueue: 4, StillWaiting: 3, FIFO: report.FIFO{Measured: true, Sequenced: 7},
		Playback:   report.Playback{Viewers: 7, StallFree: 7, StallFreeRatio: 1, MeanBitrate: 8e5},
		Renditions: []report.RenditionShare{{Rendition: "/live/360p/index.m3u8", Share: 1}}}}
	if err := WriteSummary(&b, rep); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"admission: 10 viewers: 3 admitted directly, 7 queued → 4 admitted from the queue, 3 still waiting",
		"FIFO violations 0 (0 viewers involved, 7 sequenced)", "7 stall-free (100.0%)", "0.80 Mb/s (/live/360p/index.m3u8 100%)"} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("summary lacks %q:\n%s", w, b.String())
		}
	}
}

// TestLifetimeCause: a client whose population's lifetime is over sees
// sim.ErrLifetime as its context's cause; one still there at the end of
// the run does not.
func TestLifetimeCause(t *testing.T) {
	var mu sync.Mutex
	var causes []error
	m := modelFunc(func(ctx context.Context, _ *sim.Env, _ sim.Client) {
		<-ctx.Done()
		mu.Lock()
		causes = append(causes, context.Cause(ctx))
		mu.Unlock()
	})
	s := oneStep("m", 4, 500*time.Millisecond)
	s.Populations = append(s.Populations, scenario.Population{Name: "short", Model: "m", Role: scenario.RoleViewer, Lifetime: 100 * time.Millisecond})
	s.Phases[0].Arrivals = append(s.Phases[0].Arrivals, scenario.Arrival{Pop: 1, From: 4, To: 4})
	if _, err := Run(context.Background(), Config{Scenario: s, Models: map[string]sim.Model{"m": m}, Target: "127.0.0.1:1"}); err != nil {
		t.Fatal(err)
	}
	var life, end int
	for _, c := range causes {
		if errors.Is(c, sim.ErrLifetime) {
			life++
		} else {
			end++
		}
	}
	if life != 2 || end != 2 {
		t.Errorf("causes %v: want 2 lifetimes over, 2 ended by the run", causes)
	}
}

type modelFunc func(context.Context, *sim.Env, sim.Client)

func (f modelFunc) Run(ctx context.Context, env *sim.Env, c sim.Client) { f(ctx, env, c) }
