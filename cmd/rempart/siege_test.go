package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/siege/report"
	"github.com/rempart/rempart/internal/siege/scenario"
)

const siegeScenario = `
name: tiny
description: a small flood
max_duration: 10s
max_requests: 100000
populations:
  flood: {model: get-flood, role: attacker, params: {path: /x}}
phases:
  - {name: only, duration: 1s, arrivals: {flood: {rate: 100}}}
  - {name: tail, duration: 300ms}
thresholds:
  - flood.requests > 0
  - THRESHOLD
`

// siegeRun runs `rempart siege` on a scenario with the given last
// threshold against an httptest server; it returns the error, stdout and
// the JSON report.
func siegeRun(t *testing.T, ctx context.Context, threshold string, extra ...string) (error, string, *report.Report) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "tiny.yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(siegeScenario, "THRESHOLD", threshold, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	jsonPath := filepath.Join(dir, "r.json")
	f := siegeFlags{scenario: path, target: srv.URL, scale: 1, progress: "none", reportJSON: jsonPath,
		reportHTML: filepath.Join(dir, "r.html"), connectTimeout: time.Second}
	for i := 0; i+1 < len(extra); i += 2 {
		switch extra[i] {
		case "--target":
			f.target = extra[i+1]
		}
	}
	var out bytes.Buffer
	err := runSiege(ctx, &out, io.Discard, f, slog.New(slog.DiscardHandler))
	data, rerr := os.ReadFile(jsonPath)
	if rerr != nil {
		return err, out.String(), nil
	}
	var rep report.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	return err, out.String(), &rep
}

func TestSiegeExitStatus(t *testing.T) {
	err, out, rep := siegeRun(t, context.Background(), "flood.status_200 > 50")
	if err != nil || rep == nil || !rep.Pass || !strings.Contains(out, "PASS  flood.status_200 > 50") {
		t.Fatalf("passing run: err %v, report %v\n%s", err, rep, out)
	}
	err, _, rep = siegeRun(t, context.Background(), "flood.status_200 < 10")
	var ue usageError
	if err == nil || errors.As(err, &ue) || !strings.Contains(err.Error(), "flood.status_200 < 10") || rep == nil || rep.Pass {
		t.Fatalf("failing threshold: err %v (want exit 1 naming it)", err)
	}
	err, _, _ = siegeRun(t, context.Background(), "flood.status_200 > 0", "--target", "http://10.0.0.1:80")
	if !errors.As(err, &ue) {
		t.Fatalf("unsafe target: err %v, want a usage error (exit 2)", err)
	}
	err, _, _ = siegeRun(t, context.Background(), "flood.nonsense > 0")
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), `unknown field "nonsense"`) {
		t.Fatalf("bad scenario: err %v, want a usage error naming the field", err)
	}
}

func TestSiegeInterruptedWritesReport(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, _, rep := siegeRun(t, ctx, "flood.requests > 0")
	if rep == nil || rep.Stopped != "interrupted" || rep.Pops[0].Requests == 0 {
		t.Fatalf("report after interrupt: %+v", rep)
	}
}

func TestSiegeList(t *testing.T) {
	var out bytes.Buffer
	if err := listScenarios(&out); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"kickoff", "get-flood", "mixed", "botnet-low-and-slow"} {
		if !strings.Contains(out.String(), name+" ") {
			t.Errorf("--list lacks %s:\n%s", name, out.String())
		}
	}
}

// TestBuiltinsLoadWithTheModels: every built-in scenario's parameters are
// ones its models accept (sim.ParamChecker), not only its keys.
func TestBuiltinsLoadWithTheModels(t *testing.T) {
	models := siegeModels()
	for _, info := range scenario.Builtins() {
		if _, err := scenario.Load(info.Name, models); err != nil {
			t.Errorf("%s: %v", info.Name, err)
		}
	}
}
