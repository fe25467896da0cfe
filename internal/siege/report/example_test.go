package report_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/rempart/rempart/internal/siege/report"
)

// Synthetic returns a realistic, deterministic report of a match night of
// the given length in seconds (at least a few): a "warmup" phase, then
// "kickoff" at 1/3 of the run, when the crowd arrives and an attacker
// floods the edge and holds connections. Viewers of the "fans" population
// queue, start, play and (around the flood's peak) stall; the attacker
// population "flood" is mostly refused. It fails one threshold. Copy it
// freely for tests of other packages that read reports.
func Synthetic(seconds int) *report.Report {
	rng := rand.New(rand.NewPCG(1, 2))
	kick := float64(seconds) / 3
	r := &report.Report{
		Schema:   report.Schema,
		Scenario: "match-night",
		Target:   "http://127.0.0.1:8080",
		Started:  time.Date(2026, 6, 14, 20, 45, 0, 0, time.UTC),
		Seconds:  float64(seconds),
		Stopped:  "completed",
		Machine:  report.Machine{CPUs: 8, GoVersion: "go1.26.8", OS: "linux/amd64"},
		Phases: []report.Phase{
			{Name: "warmup", Start: 0, End: kick},
			{Name: "kickoff", Start: kick, End: float64(seconds)},
		},
		Origin: &report.Origin{MetricsURL: "http://127.0.0.1:9100/metrics"},
	}
	fans, flood := newPop("fans", "hls-player", "viewer"), newPop("flood", "segment-flood", "attacker")
	var originTotal float64
	for t := range seconds {
		s := syntheticSecond(rng, float64(t), kick)
		r.Series = append(r.Series, s)
		add(&fans, s.Pops[0])
		add(&flood, s.Pops[1])
		originTotal += *s.OriginRequests
	}
	fans.Viewers = &report.Viewers{
		Viewers: fans.Clients, Started: fans.Clients - 12, StallFree: fans.Clients * 973 / 1000,
		StallFreeRatio: 0.973, Stalls: fans.Clients / 25, StallSeconds: float64(fans.Clients) / 9,
		Switches: fans.Clients / 3, Errors: 12,
		StartupMs:   report.Percentiles{Count: fans.Clients - 12, P50: 740, P90: 1500, P95: 2140, P99: 4200, Max: 9100},
		QueuedMs:    report.Percentiles{Count: fans.Clients / 4, P50: 3200, P95: 11800, P99: 14000, Max: 15000},
		MeanBitrate: 2.35e6,
	}
	fans.Latency = report.Percentiles{Count: fans.Requests, P50: 22, P90: 61, P95: 95, P99: 640, P999: 1900, Max: 2950}
	fans.ByKind = map[string]report.Percentiles{
		"segment":        {Count: fans.Requests * 3 / 4, P50: 28, P95: 120, P99: 800, Max: 2950},
		"media_playlist": {Count: fans.Requests / 4, P50: 4, P95: 18, P99: 60, Max: 400},
	}
	flood.Latency = report.Percentiles{Count: flood.Requests, P50: 0.9, P90: 2.2, P95: 3.1, P99: 14, P999: 48, Max: 210}
	fans.Status = map[string]int64{"200": fans.Requests - fans.Errors - 40, "503": fans.Errors / 2, "error": fans.Errors - fans.Errors/2, "429": 40}
	flood.Status = map[string]int64{"429": flood.Requests * 9 / 10, "200": flood.Requests/10 - flood.Errors, "503": flood.Errors}
	r.Pops = []report.Pop{fans, flood}
	r.Origin.Requests = originTotal
	r.Origin.SegmentsServed = fans.Requests * 3 / 4
	r.Origin.RequestsPerSegment = 1.08
	r.Checks = []report.Check{
		{Expr: "stall_free_viewers >= 0.99", Value: 0.973, Pass: false},
		{Expr: "startup_p95_ms <= 3000", Value: 2140, Pass: true},
		{Expr: "viewer_error_ratio <= 0.01", Value: float64(fans.Errors) / float64(max(fans.Requests, 1)), Pass: true},
		{Expr: "origin_requests_per_segment <= 1.5", Value: 1.08, Pass: true},
	}
	return r
}

func newPop(name, model, role string) report.Pop {
	return report.Pop{Name: name, Model: model, Role: role}
}

// add folds one second of a population into its totals.
func add(p *report.Pop, s report.PopSecond) {
	p.Requests += s.Requests
	p.Errors += s.Errors
	p.Bytes += s.Bytes
	p.MaxConn = max(p.MaxConn, s.Conns)
	p.Clients = max(p.Clients, s.Starting+s.Queued+s.Playing+s.Stalled, s.Conns)
}

// syntheticSecond is second t of the run, the crowd arriving at kick.
func syntheticSecond(rng *rand.Rand, t, kick float64) report.Second {
	phase := "warmup"
	if t >= kick {
		phase = "kickoff"
	}
	since := t - kick // seconds since kickoff; negative before
	bump := math.Exp(-math.Pow((since-0.25*kick)/(0.12*kick), 2))
	jitter := func(v float64) float64 { return v * (0.93 + 0.14*rng.Float64()) }

	present := 300 + 6*t
	if since > 0 {
		present += 2600 * (1 - math.Exp(-since/(0.2*kick)))
	}
	queued := 450 * bump * math.Min(1, math.Max(0, since))
	starting := jitter(12 + 160*bump*math.Min(1, math.Max(0, since)))
	stalled := jitter(3 + 140*bump)
	playing := math.Max(0, present-queued-starting-stalled)
	viewerReq := jitter(playing*0.55 + starting*3)
	viewerErr := jitter(viewerReq * 0.015 * bump)

	var attack float64
	if since > 0 {
		attack = jitter(22000 * math.Min(1, since/(0.15*kick)) * (0.4 + 0.6*bump))
	}
	origin := jitter(38 + 120*bump)
	return report.Second{
		T: int(t), Phase: phase, OriginRequests: &origin,
		Pops: []report.PopSecond{
			{
				Requests: int64(viewerReq), Errors: int64(viewerErr), Bytes: int64(viewerReq * 780e3),
				P50: jitter(18 + 70*bump), P99: jitter(85 + 1700*bump),
				Starting: int64(starting), Queued: int64(queued), Playing: int64(playing), Stalled: int64(stalled),
			},
			{
				Requests: int64(attack), Errors: int64(attack * 0.04 * bump), Bytes: int64(attack * 90),
				P50: jitter(0.8 + 1.5*bump), P99: jitter(6 + 30*bump),
				Conns: int64(jitter(3200 * math.Min(1, math.Max(0, since)/(0.3*kick)))),
			},
		},
	}
}

// Example renders the synthetic report as a page.
func Example() {
	r := Synthetic(120)
	var page strings.Builder
	if err := report.WriteHTML(&page, r); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	fmt.Println("pass:", r.Pass)
	fmt.Println("plots:", strings.Count(page.String(), "<svg"))
	// Output:
	// pass: false
	// plots: 7
}
