package scenario

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/siege/report"
	"github.com/rempart/rempart/internal/siege/sim"
)

type nop struct{}

func (nop) Run(context.Context, *sim.Env, sim.Client) {}

// checked is a model that checks its parameters: "speed" must be "slow".
type checked struct{ nop }

func (checked) CheckParams(p sim.Params) error {
	if v, ok := p["speed"]; ok && v != "slow" {
		return fmt.Errorf("speed %v: want slow", v)
	}
	return nil
}

// registry holds every model name the built-in scenarios use.
var registry = func() map[string]sim.Model {
	m := map[string]sim.Model{}
	for _, n := range []string{"live-viewer", "ondemand-listener", "app-user", "get-flood", "cache-bust",
		"login-flood", "slowloris", "slow-read", "conn-flood", "h2-flood", "botnet"} {
		m[n] = nop{}
	}
	m["checked"] = checked{}
	return m
}()

const good = `
name: kickoff
description: A crowd joins at kickoff.
max_duration: 2m
max_requests: 5000000
populations:
  viewers: {model: live-viewer, role: viewer, lifetime: 0s, params: {master: /live/master.m3u8}}
  flood:   {model: get-flood, role: attacker, params: {path: /live/master.m3u8}}
phases:
  - {name: before, duration: 10s, arrivals: {viewers: {rate: 20}}}
  - {name: kickoff, duration: 30s, arrivals: {viewers: {ramp: [20, 400]}, flood: {rate: 5000}}}
thresholds:
  - stall_free_viewers >= 0.99
  - startup_p95_ms <= 5000
  - viewers.errors <= 0
`

func TestParseGood(t *testing.T) {
	s, err := Parse([]byte(good), "good.yaml", registry)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "kickoff" || s.MaxDuration != 2*time.Minute || s.MaxRequests != 5000000 || s.MaxClients != DefaultMaxClients {
		t.Errorf("top level: %+v", s)
	}
	if len(s.Populations) != 2 || s.Populations[1].Name != "flood" || s.Populations[0].Params.String("master", "") != "/live/master.m3u8" {
		t.Errorf("populations: %+v", s.Populations)
	}
	want := []Arrival{{Pop: 0, From: 20, To: 400}, {Pop: 1, From: 5000, To: 5000}}
	if got := s.Phases[1].Arrivals; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("arrivals = %+v, want %+v", got, want)
	}
	if s.Duration() != 40*time.Second || len(s.Thresholds) != 3 || s.Thresholds[2].Pop != "viewers" {
		t.Errorf("duration %s thresholds %+v", s.Duration(), s.Thresholds)
	}
	if got := s.ExpectedClients(0); got != 20*10+210*30 {
		t.Errorf("ExpectedClients(viewers) = %v", got)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, old, new string
		want           []string // substrings of the error
	}{
		{"unknown top key", "max_requests: 5000000", "max_requests: 5000000\nmax_requets: 3", []string{"line 6", `unknown key "max_requets"`}},
		{"unknown population key", "lifetime: 0s,", "lifetme: 0s,", []string{"line 7", `populations.viewers: unknown key "lifetme"`}},
		{"unknown phase key", "{name: before, duration", "{name: before, durations", []string{"line 10", `phases[0]: unknown key "durations"`}},
		{"unknown arrival key", "{rate: 20}", "{rat: 20}", []string{"line 10", `phases[0].arrivals.viewers: unknown key "rat"`}},
		{"unknown model", "model: get-flood", "model: get-fload", []string{"line 8", "populations.flood.model", `unknown model "get-fload"`}},
		{"bad role", "role: attacker", "role: villain", []string{"populations.flood.role", `"villain"`}},
		{"missing role", "role: attacker, ", "", []string{"populations.flood.role: missing"}},
		{"negative rate", "{rate: 20}", "{rate: -3}", []string{"phases[0].arrivals.viewers.rate", "-3"}},
		{"rate not number", "{rate: 20}", "{rate: lots}", []string{"phases[0].arrivals.viewers.rate", `"lots": want a number`}},
		{"ramp length", "[20, 400]", "[20]", []string{"phases[1].arrivals.viewers.ramp", "want [from, to]"}},
		{"rate and ramp", "{rate: 20}", "{rate: 20, ramp: [1, 2]}", []string{"phases[0].arrivals.viewers", "exactly one"}},
		{"unknown pop in arrivals", "flood: {rate: 5000}", "flod: {rate: 5000}", []string{"phases[1].arrivals.flod", `unknown population "flod"`}},
		{"zero duration", "duration: 10s", "duration: 0s", []string{"phases[0].duration", "above 0s"}},
		{"bare number duration", "duration: 10s", "duration: 10", []string{"phases[0].duration", "want a duration"}},
		{"zero max_duration", "max_duration: 2m", "max_duration: 0s", []string{"max_duration", "above 0s"}},
		{"no max_requests", "max_requests: 5000000", "", []string{"max_requests", "above 0"}},
		{"bad threshold metric", "stall_free_viewers >=", "stall_free_viewerz >=", []string{"thresholds[0]", `unknown metric "stall_free_viewerz"`}},
		{"bad threshold op", "startup_p95_ms <= 5000", "startup_p95_ms =< 5000", []string{"thresholds[1]", `operator "=<"`}},
		{"threshold unknown pop", "viewers.errors", "watchers.errors", []string{"thresholds[2]", `unknown population "watchers"`}},
		{"duplicate phase name", "name: kickoff, duration", "name: before, duration", []string{"phases[1].name", "unique"}},
		{"duplicate key", "max_duration: 2m", "max_duration: 2m\nmax_duration: 3m", []string{"max_duration"}},
		{"bad population name", "flood:   {model", "Flood.x:   {model", []string{"populations.Flood.x", "population name"}},
		{"reserved population name", "flood:   {model", "admission:   {model", []string{"populations.admission", "reserved"}},
		{"params not mapping", "params: {path: /live/master.m3u8}", "params: [1]", []string{"populations.flood.params", "want a mapping"}},
		{"params the model refuses", "model: get-flood, role: attacker, params: {path: /live/master.m3u8}",
			"model: checked, role: attacker, params: {speed: fast}", []string{"line 8", "populations.flood.params", "speed fast: want slow"}},
		{"zero link", "max_requests: 5000000", "max_requests: 5000000\nlink: {mbps: 0}", []string{"line 6", "link.mbps", `0: want a capacity above 0 and at most 1e+06 Mbit/s`}},
		{"link mbps not number", "max_requests: 5000000", "max_requests: 5000000\nlink: {mbps: fast}", []string{"link.mbps", `"fast": want a number`}},
		{"link unknown key", "max_requests: 5000000", "max_requests: 5000000\nlink: {mbit: 380}", []string{"link", `unknown key "mbit" (valid keys: mbps)`}},
		{"link without mbps", "max_requests: 5000000", "max_requests: 5000000\nlink: {}", []string{"link.mbps: missing"}},
		{"link not mapping", "max_requests: 5000000", "max_requests: 5000000\nlink: 380", []string{"link", `"380": want a mapping with keys mbps`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := strings.Replace(good, tt.old, tt.new, 1)
			if data == good {
				t.Fatalf("replacement %q not found", tt.old)
			}
			_, err := Parse([]byte(data), "s.yaml", registry)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestParseDocumentErrors(t *testing.T) {
	for _, data := range []string{"", "a: [", "- 1\n- 2", good + "---\nname: x\n"} {
		if _, err := Parse([]byte(data), "x.yaml", registry); !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) = %v, want ErrInvalid", data, err)
		}
	}
}

func TestBuiltinsValidate(t *testing.T) {
	infos := Builtins()
	want := []string{"botnet-low-and-slow", "botnet-mimic", "cache-bust", "conn-flood", "egress-cap", "get-flood", "h2-flood", "kickoff",
		"login-flood", "media-flood", "mimic-listed", "mimic-unknown", "mixed", "slow-read", "slowloris", "waiting-room"}
	if len(infos) != len(want) {
		t.Fatalf("Builtins() = %d scenarios, want %d", len(infos), len(want))
	}
	for i, info := range infos {
		if info.Name != want[i] || info.Description == "" {
			t.Errorf("builtin %d = %+v, want %s with a description", i, info, want[i])
		}
		s, err := Load(info.Name, registry)
		if err != nil {
			t.Errorf("%s: %v", info.Name, err)
			continue
		}
		if s.Name != info.Name || len(s.Thresholds) == 0 || s.Duration() > s.MaxDuration {
			t.Errorf("%s: name %q, %d thresholds, phases %s over max_duration %s", info.Name, s.Name, len(s.Thresholds), s.Duration(), s.MaxDuration)
		}
	}
	if _, err := Load("nope", registry); err == nil || !strings.Contains(err.Error(), "kickoff") {
		t.Errorf("Load(nope) = %v, want an error listing the built-ins", err)
	}
}

func TestScaleFit(t *testing.T) {
	s, err := Parse([]byte(strings.Replace(good, "max_requests: 5000000", "max_requests: 5000000\nlink: {mbps: 380}", 1)), "good.yaml", registry)
	if err != nil {
		t.Fatal(err)
	}
	if s.Link.Mbps != 380 {
		t.Errorf("link = %+v, want 380 Mbit/s", s.Link)
	}
	s.Scale(0.1)
	if a := s.Phases[1].Arrivals[0]; a.From != 2 || a.To != 40 {
		t.Errorf("scaled ramp = %+v", a)
	}
	if math.Abs(s.Link.Mbps-38) > 1e-9 {
		t.Errorf("scaled link = %v Mbit/s, want 38", s.Link.Mbps)
	}
	s.Fit(4 * time.Second)
	if s.Phases[0].Duration != time.Second || s.Phases[1].Duration != 3*time.Second || s.MaxDuration != 12*time.Second {
		t.Errorf("fit: %s %s max %s", s.Phases[0].Duration, s.Phases[1].Duration, s.MaxDuration)
	}
}

func TestThresholdParse(t *testing.T) {
	tests := []struct {
		expr    string
		metric  string
		pop     string
		op      string
		val     float64
		wantErr string
	}{
		{"stall_free_viewers >= 0.99", "stall_free_viewers", "", ">=", 0.99, ""},
		{"startup_p95_ms<=5000", "startup_p95_ms", "", "<=", 5000, ""},
		{"  viewers.errors == 0 ", "viewers.errors", "viewers", "==", 0, ""},
		{"flood.status_429 > 10", "flood.status_429", "flood", ">", 10, ""},
		{"flood.status_error < 1e3", "flood.status_error", "flood", "<", 1000, ""},
		{"origin_requests_per_segment <= 1.05", "origin_requests_per_segment", "", "<=", 1.05, ""},
		{"origin_requests <= 200", "origin_requests", "", "<=", 200, ""},
		{"origin_request <= 200", "", "", "", 0, `unknown metric "origin_request"`},
		{"stall_free >= 1", "", "", "", 0, `unknown metric "stall_free"`},
		{"viewers.latency <= 1", "", "", "", 0, `unknown field "latency"`},
		{"viewers.status_99 <= 1", "", "", "", 0, `unknown field "status_99"`},
		{".errors <= 1", "", "", "", 0, `metric ".errors"`},
		{"stall_count ~ 1", "", "", "", 0, `operator "~"`},
		{"stall_count != 1", "", "", "", 0, `operator "!="`},
		{"stall_count <= many", "", "", "", 0, `value "many"`},
		{"stall_count <= NaN", "", "", "", 0, `value "NaN"`},
		{"stall_count <=", "", "", "", 0, `value ""`},
		{"stall_count", "", "", "", 0, "want \"metric op number\""},
		{"admission.fifo_violations <= 0", "admission.fifo_violations", "", "<=", 0, ""},
		{"admission.wait_within_30pct>=0.95", "admission.wait_within_30pct", "", ">=", 0.95, ""},
		{"admission.fifo <= 0", "", "", "", 0, "valid admission metrics: admission.viewers, admission.admitted"},
		{"admission. <= 0", "", "", "", 0, `unknown metric "admission."`},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			th, err := ParseThreshold(tt.expr)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if th.Metric != tt.metric || th.Pop != tt.pop || th.Op != tt.op || th.Value != tt.val {
				t.Errorf("got %+v", th)
			}
		})
	}
}

func TestThresholdEval(t *testing.T) {
	r := &report.Report{
		Pops: []report.Pop{
			{Name: "viewers", Role: "viewer", Requests: 1000, Errors: 5, Clients: 100,
				Status:  map[string]int64{"200": 990, "503": 5},
				Latency: report.Percentiles{P99: 250},
				ByKind:  map[string]report.Percentiles{"segment": {P99: 300}},
				Viewers: &report.Viewers{Viewers: 100, StallFree: 98, StallFreeRatio: 0.98, Stalls: 3, StallSeconds: 4.5, Refused: 3,
					StartupMs: report.Percentiles{P50: 800, P95: 2000, P99: 4000}}},
			{Name: "radio", Role: "viewer", Requests: 1000, Viewers: &report.Viewers{Viewers: 100, StallFree: 100, StallFreeRatio: 1,
				StartupMs: report.Percentiles{P95: 3000}}},
			{Name: "flood", Role: "attacker", Requests: 50000, Status: map[string]int64{"429": 40000}},
		},
	}
	tests := []struct {
		expr  string
		value float64
		pass  bool
	}{
		{"stall_free_viewers >= 0.99", 0.99, true},
		{"stall_free_viewers > 0.99", 0.99, false},
		{"startup_p50_ms <= 1000", 800, true},
		{"startup_p95_ms <= 2500", 3000, false}, // worst of the viewer populations
		{"startup_p99_ms < 5000", 4000, true},
		{"stall_count == 3", 3, true},
		{"stall_seconds <= 5", 4.5, true},
		{"segment_p99_ms <= 200", 300, false},
		{"viewer_errors <= 0", 5, false},
		{"error_ratio <= 0.0025", 0.0025, true},
		{"attack_requests >= 50000", 50000, true},
		{"origin_requests_per_segment <= 2", 0, false}, // not measured
		{"origin_requests <= 200", 0, false},           // not measured: no origin metrics
		{"refused_viewers <= 0", 3, false},
		{"viewers.refused_viewers == 3", 3, true},
		{"flood.refused_viewers <= 0", 0, false}, // attackers have no viewers
		{"viewers.requests == 1000", 1000, true},
		{"viewers.error_ratio < 0.01", 0.005, true},
		{"viewers.p99_ms <= 200", 250, false},
		{"viewers.stall_free_ratio >= 0.98", 0.98, true},
		{"viewers.clients == 100", 100, true},
		{"viewers.status_503 <= 0", 5, false},
		{"flood.status_429 > 0", 40000, true},
		{"flood.status_500 <= 0", 0, true},
		{"flood.stall_free_ratio >= 0", 0, false}, // attackers have no viewers
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			th, err := ParseThreshold(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			c := th.Eval(r)
			if c.Value != tt.value || c.Pass != tt.pass || c.Expr != tt.expr {
				t.Errorf("Eval = %+v, want value %v pass %v", c, tt.value, tt.pass)
			}
		})
	}
	var ts []Threshold
	for _, e := range []string{"viewers.requests > 0", "flood.requests > 100000"} {
		th, _ := ParseThreshold(e)
		ts = append(ts, th)
	}
	Evaluate(ts, r)
	if r.Pass || len(r.Checks) != 2 || !r.Checks[0].Pass || r.Checks[1].Pass {
		t.Errorf("Evaluate: pass %v checks %+v", r.Pass, r.Checks)
	}
}

// TestOriginRequestsThreshold: origin_requests is the origin's count over
// the run, and a run whose origin did more work than allowed fails.
func TestOriginRequestsThreshold(t *testing.T) {
	tests := []struct {
		expr     string
		requests float64
		pass     bool
	}{
		{"origin_requests <= 200", 200, true},
		{"origin_requests <= 200", 201, false},
		{"origin_requests <= 0", 0, true}, // measured: an origin that saw nothing
		{"origin_requests > 1000", 1333, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%v", tt.expr, tt.requests), func(t *testing.T) {
			th, err := ParseThreshold(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			r := &report.Report{Origin: &report.Origin{Requests: tt.requests, SegmentRequests: 3}}
			Evaluate([]Threshold{th}, r)
			if c := r.Checks[0]; c.Value != tt.requests || c.Pass != tt.pass || r.Pass != tt.pass {
				t.Errorf("check %+v (report pass %v), want value %v pass %v", c, r.Pass, tt.requests, tt.pass)
			}
		})
	}
}

// TestHeldAreNotErrors: waiting-room holds count in requests but neither
// as errors nor in the error ratio's denominator.
func TestHeldAreNotErrors(t *testing.T) {
	r := &report.Report{Pops: []report.Pop{
		{Name: "viewers", Role: "viewer", Requests: 1000, Held: 600, Errors: 4, Status: map[string]int64{"200": 396, "503": 604}},
		{Name: "radio", Role: "viewer", Requests: 600, Errors: 2},
		{Name: "flood", Role: "attacker", Requests: 5000, Errors: 5000},
	}}
	for _, tt := range []struct {
		expr  string
		value float64
	}{
		{"viewers.error_ratio <= 0.01", 0.01},    // 4 of the 400 not held
		{"error_ratio <= 0.01", 0.006},           // 6 of 1,000
		{"viewer_errors <= 6", 6},                // holds are not errors
		{"viewer_held >= 600", 600},              // counted apart
		{"viewers.held == 600", 600},             //
		{"viewers.status_503 == 604", 604},       // the statuses still count them
		{"flood.error_ratio >= 1", 1},            // attackers: unchanged
		{"radio.error_ratio <= 0.01", 2.0 / 600}, // no holds: errors ÷ requests
	} {
		th, err := ParseThreshold(tt.expr)
		if err != nil {
			t.Fatal(err)
		}
		if c := th.Eval(r); math.Abs(c.Value-tt.value) > 1e-12 || !c.Pass {
			t.Errorf("%s: %+v, want value %v and a pass", tt.expr, c, tt.value)
		}
	}
}

func FuzzScenario(f *testing.F) {
	f.Add([]byte(good))
	for _, info := range Builtins() {
		data, _ := Builtin(info.Name)
		f.Add(data)
	}
	f.Add([]byte("a: &a [*a, *a]\nphases: *a"))
	f.Add([]byte("populations: {x: {model: a, role: viewer, params: {k: [1, {a: b}]}}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data, "fuzz.yaml", registry)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error not ErrInvalid: %v", err)
			}
			return
		}
		if s.MaxDuration <= 0 || s.MaxRequests <= 0 || len(s.Phases) == 0 || len(s.Populations) == 0 {
			t.Fatalf("accepted an unbounded scenario: %+v", s)
		}
		for _, p := range s.Phases {
			for _, a := range p.Arrivals {
				if a.Pop < 0 || a.Pop >= len(s.Populations) || a.From < 0 || a.To < 0 {
					t.Fatalf("bad arrival %+v", a)
				}
			}
		}
	})
}

func FuzzThreshold(f *testing.F) {
	f.Add("stall_free_viewers >= 0.99")
	f.Add("viewers.status_429<1")
	f.Fuzz(func(t *testing.T, expr string) {
		th, err := ParseThreshold(expr)
		if err == nil {
			th.Eval(&report.Report{})
		}
	})
}

func TestAdmissionThresholds(t *testing.T) {
	r := &report.Report{Admission: &report.Admission{
		Viewers: 1000, AdmittedDirectly: 100, Queued: 900, AdmittedFromQueue: 300, StillWaiting: 590, GaveUp: 10,
		NotAdmitted: 600, Refused: 2, Limited: 3, Requeued: 1,
		QueueTime:    report.Spread{Count: 300, P50: 40, P95: 90, Max: 120},
		FIFO:         report.FIFO{Measured: true, Sequenced: 400, Violations: 3, ViewersInvolved: 4},
		WaitAccuracy: report.WaitAccuracy{Count: 300, Within: 285, WithinRatio: 0.95, ErrorP50: 0.1, ErrorP95: 0.35},
		Playback:     report.Playback{Viewers: 398, StallFree: 398, StallFreeRatio: 1, UnstartedAtEnd: 2, MeanBitrate: 8e5},
	}}
	empty := &report.Report{Admission: &report.Admission{Viewers: 5, AdmittedDirectly: 5}}
	tests := []struct {
		expr  string
		r     *report.Report
		value float64
		pass  bool
	}{
		{"admission.viewers == 1000", r, 1000, true},
		{"admission.admitted == 400", r, 400, true},
		{"admission.admitted_directly == 100", r, 100, true},
		{"admission.queued == 900", r, 900, true},
		{"admission.admitted_from_queue >= 1", r, 300, true},
		{"admission.still_waiting == 590", r, 590, true},
		{"admission.gave_up <= 0", r, 10, false},
		{"admission.not_admitted == 600", r, 600, true},
		{"admission.refused == 2", r, 2, true},
		{"admission.limited == 3", r, 3, true},
		{"admission.requeued == 1", r, 1, true},
		{"admission.queue_time_p50_s == 40", r, 40, true},
		{"admission.queue_time_p95_s <= 60", r, 90, false},
		{"admission.queue_time_max_s == 120", r, 120, true},
		{"admission.fifo_violations <= 0", r, 3, false},
		{"admission.fifo_viewers == 4", r, 4, true},
		{"admission.wait_within_30pct >= 0.95", r, 0.95, true},
		{"admission.wait_error_p50 <= 0.3", r, 0.1, true},
		{"admission.wait_error_p95 <= 0.3", r, 0.35, false},
		{"admission.admitted_stall_free >= 1", r, 1, true},
		{"admission.mean_bitrate <= 1000000", r, 8e5, true},
		// Nothing to judge: not measured, so the threshold fails.
		{"admission.fifo_violations <= 0", empty, 0, false},
		{"admission.wait_within_30pct >= 0", empty, 0, false},
		{"admission.queue_time_p95_s <= 1000", empty, 0, false},
		{"admission.admitted_stall_free >= 0", empty, 0, false},
		{"admission.queued <= 0", empty, 0, true},
		{"admission.queued <= 0", &report.Report{}, 0, false}, // no admission section
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			th, err := ParseThreshold(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			if c := th.Eval(tt.r); c.Value != tt.value || c.Pass != tt.pass {
				t.Errorf("Eval = %+v, want value %v pass %v", c, tt.value, tt.pass)
			}
		})
	}
}

// TestBuiltinsRunSmall: at --scale 0.05 --duration 4s (how the end-to-end
// tests run them) every population of every built-in still arrives, and
// the waiting room still holds ten times its capacity at --scale 0.1
// --duration 60s.
func TestBuiltinsRunSmall(t *testing.T) {
	for _, info := range Builtins() {
		s, err := Load(info.Name, registry)
		if err != nil {
			t.Fatal(err)
		}
		s.Scale(0.05)
		s.Fit(4 * time.Second)
		for i, p := range s.Populations {
			var n float64
			for _, ph := range s.Phases {
				for _, a := range ph.Arrivals {
					if a.Pop == i {
						n += math.Floor((a.From+a.To)/2*ph.Duration.Seconds() + 0.5) // as the runner counts
					}
				}
			}
			if n < 1 {
				t.Errorf("%s: population %s: no client at --scale 0.05 --duration 4s", info.Name, p.Name)
			}
		}
	}
	s, err := Load("waiting-room", registry)
	if err != nil {
		t.Fatal(err)
	}
	s.Scale(0.1)
	s.Fit(time.Minute)
	// The edge is given max_sessions 10 at this scale: ~20 admitted in a minute.
	if n := s.ExpectedClients(0); n < 200 || n > 250 {
		t.Errorf("waiting-room at --scale 0.1 --duration 60s: %.0f viewers, want 200 to 250", n)
	}
}
