package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rempart/rempart/internal/siege/report"
)

func ptr(f float64) *float64 { return &f }

// sample is a small report: one viewer population, one flood.
func sample(scenario string, origin float64, attack int64) *report.Report {
	r := &report.Report{
		Schema: report.Schema, Scenario: scenario, Stopped: "completed", Pass: attack == 0,
		Phases: []report.Phase{{Name: "before", End: 1}, {Name: "kickoff", Start: 1, End: 3}},
		Series: []report.Second{
			{T: 0, Phase: "before", OriginRequests: ptr(100)},
			{T: 1, Phase: "kickoff", OriginRequests: ptr(10)},
			{T: 2, Phase: "kickoff", OriginRequests: ptr(30)},
		},
		Pops: []report.Pop{{
			Name: "viewers", Role: "viewer", Requests: 900,
			ByKind:  map[string]report.Percentiles{"segment": {P99: 42}},
			Viewers: &report.Viewers{Viewers: 200, StallFree: 190, Refused: 7, StartupMs: report.Percentiles{P95: 1234}},
		}},
		Origin: &report.Origin{Requests: origin, RequestsPerSegment: 1.5},
		Checks: []report.Check{{Expr: "stall_free_viewers >= 0.99", Value: 0.95, Pass: false}},
	}
	if attack > 0 {
		r.Pops = append(r.Pops, report.Pop{Name: "flood", Role: "attacker", Requests: attack,
			Status: map[string]int64{"200": attack / 4, "429": attack / 2, "error": attack / 4}})
	}
	return r
}

func TestReduce(t *testing.T) {
	row := reduce(sample("get-flood", 500, 1000))
	tests := []struct {
		name      string
		got, want float64
	}{
		{"stall-free", row.StallFree, 0.95},
		{"startup p95", row.StartupP95, 1234},
		{"segment p99", row.SegmentP99, 42},
		{"per segment", row.PerSegment, 1.5},
		{"origin rate skips the first phase", row.OriginRate, 20},
		{"attack requests", float64(row.Attack), 1000},
		{"refused viewers", float64(row.Refused), 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
	if len(row.Failed) != 1 || !strings.Contains(row.Failed[0], "was 0.95") {
		t.Errorf("failed thresholds: %q", row.Failed)
	}
}

func TestStatusBucket(t *testing.T) {
	for code, want := range map[string]string{
		"200": "2xx", "206": "2xx", "304": "3xx", "404": "4xx", "429": "429", "403": "403",
		"503": "503", "502": "5xx", "error": "error", "canceled": "canceled",
	} {
		if got := statusBucket(code); got != want {
			t.Errorf("statusBucket(%q) = %q, want %q", code, got, want)
		}
	}
}

func TestMixCell(t *testing.T) {
	got := mixCell(map[string]int64{"200": 25, "429": 50, "error": 25})
	if want := "429 50.0 % · 2xx 25.0 % · error 25.0 %"; got != want {
		t.Errorf("mixCell = %q, want %q", got, want)
	}
	if got := mixCell(nil); got != "–" {
		t.Errorf("mixCell(nil) = %q", got)
	}
}

func TestBoard(t *testing.T) {
	dir := t.TempDir()
	write := func(proxy, scenario string, r *report.Report) {
		data, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(dir, proxy), 0o755)
		if err := os.WriteFile(filepath.Join(dir, proxy, scenario+".json"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("rempart", "kickoff", sample("kickoff", 300, 0))
	write("rempart", "get-flood", sample("get-flood", 500, 1000))
	b := Board{Proxies: []string{"rempart", "nginx"}, Scenarios: []string{"kickoff", "get-flood"}, Baseline: "kickoff"}
	if err := b.Load(dir); err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	b.Write(&sb)
	out := sb.String()
	for _, want := range []string{
		"| get-flood | rempart | **FAIL** | 95.0 % (200) | 7 | 1234 | 42 | 500 | 1.50 | 20 | 1000 | +200 (20.0 %) | 429 50.0 % · 2xx 25.0 % · error 25.0 % |",
		"| kickoff | nginx | no report |",
		"- kickoff / rempart: stall_free_viewers >= 0.99 (was 0.95)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestLoadRefusesOtherSchema(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "nginx"), 0o755)
	os.WriteFile(filepath.Join(dir, "nginx", "kickoff.json"), []byte(`{"schema":"other/9"}`), 0o644)
	b := Board{Proxies: []string{"nginx"}, Scenarios: []string{"kickoff"}}
	if err := b.Load(dir); err == nil || !strings.Contains(err.Error(), "schema") {
		t.Errorf("Load: %v, want a schema error", err)
	}
}
