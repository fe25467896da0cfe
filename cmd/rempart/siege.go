package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rempart/rempart/internal/siege/attack"
	"github.com/rempart/rempart/internal/siege/report"
	"github.com/rempart/rempart/internal/siege/runner"
	"github.com/rempart/rempart/internal/siege/scenario"
	"github.com/rempart/rempart/internal/siege/sim"
	"github.com/rempart/rempart/internal/siege/viewer"
)

type siegeFlags struct {
	scenario       string
	list           bool
	target         string
	host           string
	own            bool
	scale          float64
	duration       time.Duration
	maxDuration    time.Duration
	maxRequests    int64
	connectTimeout time.Duration
	linkMbps       float64
	noSources      bool
	originMetrics  string
	originMetric   string
	segmentMetric  string
	progress       string
	reportJSON     string
	reportHTML     string
}

func newSiege() *cobra.Command {
	var f siegeFlags
	c := &cobra.Command{
		Use:   "siege",
		Short: "Replay match night (a crowd of players plus L7 attacks) against a target and report what viewers lived through",
		Long: `Replay match night against a target over HTTP: a crowd of real HLS players
arriving at kickoff, plus the layer-7 attacks that took platforms down, then
report what the viewers lived through (startup time, stalls, queue time,
errors). The scenario's thresholds decide the exit status: 0 all held, 1 one
failed, 2 a usage or scenario error.

Traffic goes only to loopback addresses (127.0.0.0/8, ::1) unless
--i-own-this-target is given; every run is capped in duration and requests.
See docs/siege.md.`,
		Example: `  rempart siege --list
  rempart siege --scenario kickoff --target http://127.0.0.1:8080
  rempart siege --scenario get-flood --scale 0.1 --duration 20s
  rempart siege --scenario ./match.yaml --origin-metrics http://127.0.0.1:9090/metrics`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if f.list {
				return listScenarios(c.OutOrStdout())
			}
			logger, err := newLogger(c)
			if err != nil {
				return err
			}
			return runSiege(c.Context(), c.OutOrStdout(), c.ErrOrStderr(), f, logger)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.scenario, "scenario", "", "built-in scenario name (see --list) or path of a YAML scenario")
	fl.BoolVar(&f.list, "list", false, "list the built-in scenarios and exit")
	fl.StringVar(&f.target, "target", "http://127.0.0.1:8080", "base URL of the system under test (loopback only, see --i-own-this-target)")
	fl.StringVar(&f.host, "host", "", "Host header to send (default: the target's host)")
	fl.BoolVar(&f.own, "i-own-this-target", false, "allow a target outside 127.0.0.0/8 and ::1: only a system you own and may load-test")
	fl.Float64Var(&f.scale, "scale", 1, "multiply every arrival rate by this factor (e.g. 0.1 for a small run)")
	fl.DurationVar(&f.duration, "duration", 0, "shrink the phases proportionally to last this long in total (0: as written)")
	fl.DurationVar(&f.maxDuration, "max-duration", 0, "hard cap on the run, replacing the scenario's max_duration (0: the scenario's)")
	fl.Int64Var(&f.maxRequests, "max-requests", 0, "request budget, replacing the scenario's max_requests (0: the scenario's)")
	fl.DurationVar(&f.connectTimeout, "connect-timeout", 5*time.Second, "timeout of each TCP connect")
	fl.Float64Var(&f.linkMbps, "link-mbps", 0, "viewers download through one shared link of this capacity in Mbit/s, replacing the scenario's link (0: the scenario's; negative: none)")
	fl.BoolVar(&f.noSources, "no-source-addrs", false, "send every client from the system's address instead of a distinct 127.x.y.z")
	fl.StringVar(&f.originMetrics, "origin-metrics", "", "URL of a Prometheus metrics page to read origin requests from (loopback only)")
	fl.StringVar(&f.originMetric, "origin-metric", runner.DefaultOriginMetric, "counter counting origin requests, as name or name{label=\"value\"} (matching series are summed)")
	fl.StringVar(&f.segmentMetric, "origin-segment-metric", runner.DefaultSegmentMetric, "counter counting origin requests for segments, for origin requests per segment")
	fl.StringVar(&f.progress, "progress", "auto", "live progress on stderr: auto (refreshed on a terminal, lines otherwise), plain or none")
	fl.StringVar(&f.reportJSON, "report-json", "siege-report.json", "write the JSON report here (empty: none)")
	fl.StringVar(&f.reportHTML, "report-html", "siege-report.html", "write the HTML report here (empty: none)")
	return c
}

// siegeModels returns every client model by the name scenarios use.
func siegeModels() map[string]sim.Model {
	m := attack.Models()
	maps.Copy(m, viewer.Models())
	return m
}

func listScenarios(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range scenario.Builtins() {
		fmt.Fprintf(tw, "%s\t%s\n", s.Name, s.Description)
	}
	return tw.Flush()
}

// loadScenario loads, scales and fits the scenario; errors are usage errors.
func (f siegeFlags) loadScenario(models map[string]sim.Model) (*scenario.Scenario, error) {
	if f.scenario == "" {
		return nil, usagef("siege: --scenario is required (a built-in name from --list, or a .yaml path)")
	}
	if !(f.scale > 0 && f.scale <= 1000) {
		return nil, usagef("--scale %v: want a factor above 0 and at most 1000", f.scale)
	}
	if f.duration < 0 || f.maxDuration < 0 || f.maxRequests < 0 {
		return nil, usagef("--duration, --max-duration and --max-requests: want 0 (the scenario's) or more")
	}
	s, err := scenario.Load(f.scenario, models)
	if err != nil {
		if errors.Is(err, scenario.ErrInvalid) {
			return nil, usageError{err}
		}
		return nil, usagef("%v", err)
	}
	s.Scale(f.scale)
	s.Fit(f.duration)
	return s, nil
}

func runSiege(ctx context.Context, stdout, stderr io.Writer, f siegeFlags, logger *slog.Logger) error {
	models := siegeModels()
	s, err := f.loadScenario(models)
	if err != nil {
		return err
	}
	prog, err := newProgress(stderr, f.progress)
	if err != nil {
		return err
	}
	cfg := runner.Config{
		Scenario: s, Models: models, Target: f.target, Host: f.host, OwnTarget: f.own,
		MaxDuration: f.maxDuration, MaxRequests: f.maxRequests, ConnectTimeout: f.connectTimeout,
		NoSourceAddrs: f.noSources, LinkMbps: f.linkMbps, OriginMetrics: f.originMetrics, OriginMetric: f.originMetric, SegmentMetric: f.segmentMetric,
		Logger: logger,
	}
	if prog != nil {
		cfg.Progress = prog.Tick
	}
	warnUnmeasured(s, f, logger)
	rep, err := runner.Run(ctx, cfg)
	if prog != nil {
		prog.Close()
	}
	if err != nil {
		return usagef("siege: %v", err)
	}
	if err := writeReports(rep, f); err != nil {
		return err
	}
	if err := runner.WriteSummary(stdout, rep); err != nil {
		return err
	}
	return thresholdError(rep)
}

// newProgress builds the progress view for --progress; nil for none.
func newProgress(w io.Writer, mode string) (*runner.Progress, error) {
	switch mode {
	case "none":
		return nil, nil
	case "plain":
		return runner.NewProgress(w, false), nil
	case "auto":
		return runner.NewProgress(w, isTerminal(w)), nil
	}
	return nil, usagef("--progress %q: want auto, plain or none", mode)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// warnUnmeasured warns about thresholds that need --origin-metrics.
func warnUnmeasured(s *scenario.Scenario, f siegeFlags, logger *slog.Logger) {
	if f.originMetrics != "" {
		return
	}
	for _, t := range s.Thresholds {
		if t.Metric == "origin_requests" || t.Metric == "origin_requests_per_segment" {
			logger.Warn("siege: threshold needs --origin-metrics and will fail without it", "threshold", t.Expr)
		}
	}
}

func writeReports(rep *report.Report, f siegeFlags) error {
	if f.reportJSON != "" {
		data, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return fmt.Errorf("write JSON report: %w", err)
		}
		if err := os.WriteFile(f.reportJSON, append(data, '\n'), 0o644); err != nil {
			return fmt.Errorf("write JSON report: %w", err)
		}
	}
	if f.reportHTML != "" {
		out, err := os.Create(f.reportHTML)
		if err != nil {
			return fmt.Errorf("write HTML report: %w", err)
		}
		err = report.WriteHTML(out, rep)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write HTML report: %w", err)
		}
	}
	return nil
}

// thresholdError returns nil when every threshold held, or an error (exit
// status 1) listing those that failed.
func thresholdError(rep *report.Report) error {
	var failed []string
	for _, c := range rep.Checks {
		if !c.Pass {
			failed = append(failed, fmt.Sprintf("%s (measured %g)", c.Expr, c.Value))
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return fmt.Errorf("siege: %d of %d thresholds failed: %s", len(failed), len(rep.Checks), strings.Join(failed, "; "))
}
