package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/edge"
	"github.com/rempart/rempart/internal/siege/report"
	"github.com/rempart/rempart/internal/siege/scenario"
	"github.com/rempart/rempart/internal/synth"
)

// liveStack runs a synthetic origin (1 s segments, with latency added to
// every answer) and, unless direct, the edge in front of it. It returns the
// URL to siege and the edge's admin address ("" when direct).
func liveStack(t *testing.T, latency time.Duration, direct bool) (target, admin string) {
	t.Helper()
	return liveStackWith(t, latency, direct, nil)
}

// liveStackWith is liveStack with the edge's configuration changed by edit
// (after the quick defaults, before validation).
func liveStackWith(t *testing.T, latency time.Duration, direct bool, edit func(*config.Config)) (target, admin string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	src, err := synth.New(synth.Options{SegmentDuration: time.Second, Window: 6, Latency: latency})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- synth.Serve(ctx, ln, src, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() { cancel(); <-done })
	if direct {
		return "http://" + ln.Addr().String(), ""
	}
	return edgeBefore(t, "http://"+ln.Addr().String(), edit)
}

// edgeBefore starts the edge's quick-start configuration in front of
// origin, changed by edit (after the quick defaults, before validation),
// for as long as the test runs. It returns the edge's URL and its admin
// address.
func edgeBefore(t *testing.T, origin string, edit func(*config.Config)) (target, admin string) {
	t.Helper()
	cfg, err := config.Quick("127.0.0.1:0", origin)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Admin.Listen = "127.0.0.1:0"
	if edit != nil {
		edit(cfg)
		cfg.Defaults()
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	e, err := edge.New(cfg, edge.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ectx, ecancel := context.WithCancel(context.Background())
	if err := e.Start(ectx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ecancel(); e.Wait() })
	return "http://" + e.Addr(), e.AdminAddr()
}

// siegeBuiltin runs a built-in scenario small and returns the error (nil:
// thresholds held) and the JSON report.
func siegeBuiltin(t *testing.T, name, target, admin string, scale float64, d time.Duration) (error, *report.Report) {
	t.Helper()
	dir := t.TempDir()
	f := siegeFlags{scenario: name, target: target, scale: scale, duration: d, progress: "none",
		reportJSON: filepath.Join(dir, "r.json"), reportHTML: filepath.Join(dir, "r.html"), connectTimeout: 2 * time.Second}
	if admin != "" {
		f.originMetrics = "http://" + admin + "/metrics"
	}
	if bin := siegeBinary(t); bin != "" {
		err := siegeProcess(t, bin, f)
		return err, readReport(t, f.reportJSON, err)
	}
	err := runSiege(context.Background(), io.Discard, io.Discard, f, slog.New(slog.DiscardHandler))
	return err, readReport(t, f.reportJSON, err)
}

// The siege of the goal tests runs in a process of its own, built without
// the race detector: in this test process (race-instrumented, with the
// edge and the origin) a flood's client cost as much CPU as the edge it
// measured, and on a busy machine the viewers starved whatever the shield
// decided (issue 11, item 7). The edge stays in this process, under -race.
var siegeBin struct {
	once sync.Once
	dir  string
	path string
}

// siegeBinary builds rempart once per test run and returns its path, or ""
// when it cannot be built (the siege then runs in this process).
func siegeBinary(t *testing.T) string {
	t.Helper()
	siegeBin.once.Do(func() {
		dir, err := os.MkdirTemp("", "rempart-siege-bin")
		if err != nil {
			return
		}
		siegeBin.dir = dir
		path := filepath.Join(dir, "rempart")
		out, err := exec.Command("go", "build", "-o", path, ".").CombinedOutput()
		if err != nil {
			t.Logf("siege runs in the test process: go build: %v\n%s", err, out)
			return
		}
		siegeBin.path = path
	})
	return siegeBin.path
}

// removeSiegeBinary deletes what siegeBinary built (TestMain, at the end).
func removeSiegeBinary() {
	if siegeBin.dir != "" {
		os.RemoveAll(siegeBin.dir)
	}
}

// siegeProcess runs `rempart siege` with f's settings; its error is the
// command's last words (the failed thresholds) when it exits non-zero.
func siegeProcess(t *testing.T, bin string, f siegeFlags) error {
	t.Helper()
	args := []string{"siege", "--scenario", f.scenario, "--target", f.target, "--scale", strconv.FormatFloat(f.scale, 'g', -1, 64),
		"--duration", f.duration.String(), "--progress", "none", "--report-json", f.reportJSON, "--report-html", f.reportHTML,
		"--connect-timeout", f.connectTimeout.String()}
	if f.originMetrics != "" {
		args = append(args, "--origin-metrics", f.originMetrics)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stderr, cmd.Stdout = &stderr, io.Discard
	if err := cmd.Run(); err != nil {
		last := strings.TrimSpace(stderr.String())
		if i := strings.LastIndexByte(last, '\n'); i >= 0 {
			last = last[i+1:]
		}
		return fmt.Errorf("%s (%w)", last, err)
	}
	return nil
}

// readReport reads the JSON report a run wrote; runErr is the run's error,
// for the message when there is none.
func readReport(t *testing.T, path string, runErr error) *report.Report {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no report (%v), run error %v", err, runErr)
	}
	var rep report.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	return &rep
}

func viewersOf(t *testing.T, rep *report.Report) *report.Viewers {
	t.Helper()
	for _, p := range rep.Pops {
		if p.Viewers != nil {
			return p.Viewers
		}
	}
	t.Fatalf("no viewer population in %s", rep.Scenario)
	return nil
}

// TestSiegeKickoffThroughEdge: the built-in kickoff, small, through the
// edge: every viewer plays without a stall, one origin fetch per segment.
func TestSiegeKickoffThroughEdge(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("end-to-end siege run (-short)")
	}
	target, admin := liveStack(t, 0, false)
	err, rep := siegeBuiltin(t, "kickoff", target, admin, 0.5, 12*time.Second)
	v := viewersOf(t, rep)
	if err != nil || v.Viewers < 20 || v.StallFreeRatio < 0.99 {
		t.Fatalf("kickoff through the edge: err %v, viewers %+v", err, v)
	}
	if o := rep.Origin; o == nil || o.RequestsPerSegment < 0.99 || o.RequestsPerSegment > 1.01 {
		t.Fatalf("origin requests per segment: %+v, want 1", rep.Origin)
	}
}

// TestSiegeCountsStalls: the same crowd against an origin slower than real
// time stalls, and siege says so: the instrument can fail, not only pass.
func TestSiegeCountsStalls(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("end-to-end siege run (-short)")
	}
	target, _ := liveStack(t, 1200*time.Millisecond, true)
	err, rep := siegeBuiltin(t, "kickoff", target, "", 0.5, 12*time.Second)
	v := viewersOf(t, rep)
	if err == nil || v.Stalls == 0 || v.StallFreeRatio >= 0.99 {
		t.Fatalf("slowed origin: err %v (want a failed threshold), viewers %+v", err, v)
	}
}

// TestEveryScenarioAgainstTheEdge runs each built-in scenario no goal test
// runs, briefly at a small scale against the edge: the edge survives every
// attack siege knows, its viewers meet the scenario's thresholds, and every
// attacker model runs for real.
func TestEveryScenarioAgainstTheEdge(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("end-to-end siege runs (-short)")
	}
	// The goal tests run these longer, with their thresholds; here they
	// would only spend the suite's time again.
	ranByGoalTests := map[string]bool{"kickoff": true, "get-flood": true, "login-flood": true,
		"botnet-low-and-slow": true, "h2-flood": true, "botnet-mimic": true, "media-flood": true, "egress-cap": true,
		"waiting-room": true,
		// Issue 11's scenarios assume a weak origin (not liveStack's) and
		// set the goal the shield is being built to meet;
		// TestSiegeMimicMeasures runs them to check the instrument.
		"mimic-unknown": true, "mimic-listed": true}
	for _, info := range scenario.Builtins() {
		if ranByGoalTests[info.Name] {
			continue
		}
		t.Run(info.Name, func(t *testing.T) {
			// A fresh edge each: siege numbers its clients from zero in
			// every run, so the last run's attackers' blocks would land on
			// this run's viewers.
			target, admin := liveStack(t, 0, false)
			err, rep := siegeBuiltin(t, info.Name, target, admin, 0.05, 4*time.Second)
			// Their thresholds are the viewers' (stall-free, startup, no
			// 403/429): issue 4's goal, small.
			if err != nil {
				t.Errorf("thresholds: %v", err)
			}
			for _, p := range rep.Pops {
				if p.Clients == 0 {
					t.Errorf("population %s (%s) never arrived", p.Name, p.Model)
				}
				if p.Role == "viewer" && p.Requests > 0 && p.Errors*10 > p.Requests {
					t.Errorf("viewers of %s: %d errors in %d requests (status %v)", p.Name, p.Errors, p.Requests, p.Status)
				}
			}
			resp, err := http.Get(target + "/live/master.m3u8")
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("edge after %s: %v %v", info.Name, resp, err)
			}
			resp.Body.Close()
		})
	}
}
