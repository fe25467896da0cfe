package main

import (
	"cmp"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/testkit"
)

// TestShieldGoal runs siege's kickoff and attacks, small, against the
// shielded edge. Each built-in scenario's thresholds carry issue 4's goal:
// ≥ 99 % of viewers stall-free, no viewer refused (403/429), and request
// floods refused within 5 s (refused_after_s). A kickoff crowd must cause
// no mitigation at all.
func TestShieldGoal(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end siege runs (-short)")
	}
	// Scales keep the suite light; the botnet's at 0.1 would stay under
	// the detector's floor (50 req/s) for its first seconds.
	scales := map[string]float64{"kickoff": 0.1, "get-flood": 0.1, "login-flood": 0.1, "botnet-low-and-slow": 0.25,
		"h2-flood": 0.1, "botnet-mimic": 0.25, "media-flood": 0.25}
	// 20 s leave the detector ~3 s of calm before the attack phase, enough
	// for the floods; the botnets' arrivals ramp over their full 30 s.
	durations := map[string]time.Duration{"kickoff": 20 * time.Second, "get-flood": 20 * time.Second,
		"login-flood": 20 * time.Second, "h2-flood": 15 * time.Second, "media-flood": 20 * time.Second}
	for _, name := range []string{"kickoff", "get-flood", "login-flood", "botnet-low-and-slow", "h2-flood", "botnet-mimic",
		"media-flood"} {
		t.Run(name, func(t *testing.T) {
			var edit func(*config.Config)
			switch name {
			case "h2-flood":
				edit = func(c *config.Config) { c.H2C = true }
			case "botnet-mimic":
				// The viewers' proof of work runs in this process, under
				// the race detector: easy puzzles keep the test about the
				// detector turning attack mode on, not about the work
				// (BENCHMARKS.md measures it at the default difficulty).
				edit = func(c *config.Config) { c.Shield.Challenge.Difficulty, c.Shield.Challenge.MaxDifficulty = 8, 10 }
			}
			target, admin := liveStackWith(t, 0, false, edit)
			dur := cmp.Or(durations[name], 30*time.Second)
			err, rep := siegeBuiltin(t, name, target, admin, scales[name], dur)
			if err != nil {
				t.Errorf("thresholds: %v", err)
				t.Logf("the detector's decisions: %s", adminBody(t, admin, "/api/detect"))
			}
			for _, p := range rep.Pops {
				if p.RefusedAfterS != nil {
					t.Logf("%s refused %.1f s after its first answer (status %v)", p.Name, *p.RefusedAfterS, p.Status)
				}
			}
			if name == "h2-flood" {
				// Each rapid-reset connection is cut at the frame that
				// crosses its reset budget, before Go's server reads it.
				if n := metricValue(t, admin, `rempart_connections_total{event="cut_reset_flood"}`); n == "0" || n == "absent" {
					t.Errorf("no connection was cut for rapid reset (%s)", n)
				}
			}
			if name == "botnet-mimic" {
				// The bots ask a cached, listed object: cheap to serve.
				// Whatever the detector reads, no viewer may meet the
				// challenge for looking like them.
				var challenged int64
				for _, p := range rep.Pops {
					if p.Viewers != nil {
						challenged += p.Challenged
					}
				}
				if challenged != 0 {
					t.Errorf("viewers met %d challenges: the shield struck them for the bots' likeness", challenged)
				}
			}
			if name == "media-flood" {
				waitLifted(t, admin)
			}
			if name == "kickoff" {
				if n := metricValue(t, admin, `rempart_detect_mitigations_total{decision="applied"}`); n != "0" {
					t.Errorf("a kickoff crowd caused %s mitigations", n)
				}
			}
		})
	}
}

// waitLifted checks that the detector applied mitigations during the run
// and lifts them all by itself once the attack has stopped (10 s after
// traffic last matched them).
func waitLifted(t *testing.T, admin string) {
	t.Helper()
	if n := metricValue(t, admin, `rempart_detect_mitigations_total{decision="applied"}`); n == "0" || n == "absent" {
		t.Errorf("no mitigation was applied (%s)", n)
		return
	}
	start := time.Now()
	for {
		active := adminBody(t, admin, "/api/mitigations")
		if strings.TrimSpace(active) == "[]" {
			t.Logf("every mitigation lifted %.1f s after the run ended", time.Since(start).Seconds())
			return
		}
		if time.Since(start) > 30*time.Second {
			t.Errorf("mitigations still active 30 s after the attack stopped: %.500s", active)
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// adminBody returns the first 8 KiB of an admin endpoint's answer.
func adminBody(t *testing.T, admin, path string) string {
	t.Helper()
	resp, err := http.Get("http://" + admin + path)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
	return string(b)
}

// metricValue reads one sample from the edge's admin /metrics.
func metricValue(t *testing.T, admin, series string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+admin+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, body := testkit.Fetch(t, nil, req)
	for _, l := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(l, series+" "); ok {
			return v
		}
	}
	return "absent"
}
