package runner

import (
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/siege/link"
	"github.com/rempart/rempart/internal/siege/report"
	"github.com/rempart/rempart/internal/siege/scenario"
	"github.com/rempart/rempart/internal/siege/sim"
	"github.com/rempart/rempart/internal/siege/viewer"
	"github.com/rempart/rempart/internal/synth"
)

// synthTarget serves the synthetic origin (1 s segments) directly: no
// edge, so nothing degrades the stream.
func synthTarget(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(synthWrapped(t, nil))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestLinkCapsViewers: live viewers through a 3 Mbit/s link get 3 Mbit/s
// together at most; the report accounts for the link, per second and in
// all, and the bytes it carried are the viewers'.
func TestLinkCapsViewers(t *testing.T) {
	if testing.Short() {
		t.Skip("plays live video for 6 s")
	}
	const mbps = 3.0
	s := &scenario.Scenario{
		Name: "link", MaxDuration: 30 * time.Second, MaxRequests: 1 << 20, MaxClients: 100,
		Link:        scenario.Link{Mbps: 30}, // replaced by Config.LinkMbps
		Populations: []scenario.Population{{Name: "viewers", Model: "live-viewer", Role: scenario.RoleViewer}},
		Phases: []scenario.Phase{
			{Name: "join", Duration: time.Second, Arrivals: []scenario.Arrival{{Pop: 0, From: 4, To: 4}}},
			{Name: "watch", Duration: 5 * time.Second},
		},
	}
	rep, err := Run(t.Context(), Config{Scenario: s, Models: viewer.Models(), Target: synthTarget(t), LinkMbps: mbps})
	if err != nil {
		t.Fatal(err)
	}
	l := rep.Link
	if l == nil || l.Mbps != mbps {
		t.Fatalf("link %+v, want %v Mbit/s", l, mbps)
	}
	burst := float64(max(link.MinBurst, mbps*1e6/8*link.BurstTime.Seconds()))
	if limit := mbps*1e6/8*rep.Seconds + burst; float64(l.Bytes) > limit*1.05 {
		t.Errorf("the link carried %d bytes in %.1f s, over its capacity (%.0f)", l.Bytes, rep.Seconds, limit)
	}
	// The link also carried the bodies the end of the run cut short,
	// which are not counted as received: at most a segment per viewer.
	if p := rep.Pops[0]; p.Bytes == 0 || l.Bytes < p.Bytes || l.Bytes-p.Bytes > 4*200_000 {
		t.Errorf("the link carried %d bytes, the viewers received %d: want the same, give or take the bodies cut by the end", l.Bytes, p.Bytes)
	}
	seconds := 0
	for _, sec := range rep.Series {
		if sec.LinkMbps == nil {
			t.Fatalf("second %d has no link figure", sec.T)
		}
		seconds++
	}
	if seconds == 0 || l.PeakMbps <= 0 || l.MeanMbps <= 0 || l.Utilization <= 0 || l.Utilization > 1.1 {
		t.Errorf("link account %+v over %d seconds", l, seconds)
	}
}

// TestLinkOverride: Config.LinkMbps replaces the scenario's link (above
// 0) or removes it (below 0); a bad capacity is an error before the run.
func TestLinkOverride(t *testing.T) {
	s := &scenario.Scenario{Link: scenario.Link{Mbps: 38}}
	for _, tc := range []struct {
		override, want float64
		err            bool
	}{{0, 38, false}, {100, 100, false}, {-1, 0, false}, {math.NaN(), 0, true}, {2 * link.MaxMbps, 0, true}} {
		l, err := newLink(s, tc.override)
		if (err != nil) != tc.err || l.Mbps() != tc.want {
			t.Errorf("newLink(38, override %v) = %v Mbit/s, %v; want %v Mbit/s, error %v", tc.override, l.Mbps(), err, tc.want, tc.err)
		}
	}
	cfg := Config{Scenario: oneStep("flood", 1, time.Second), Models: map[string]sim.Model{"flood": flood{}},
		Target: "http://127.0.0.1:1", LinkMbps: math.NaN()}
	if _, err := Run(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), "link capacity NaN") {
		t.Errorf("Run with a NaN link capacity: %v, want an error naming it", err)
	}
}

// degraded wraps the synthetic origin as an edge at degradation level 2
// does (docs/admission.md): the master lists 240p and 360p only, and
// 480p's media playlist answers 302 to 360p's. Static, from the start:
// the best case of degradation.
func degraded(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/live/480p/index.m3u8":
			http.Redirect(w, r, "/live/360p/index.m3u8", http.StatusFound)
		case "/live/master.m3u8":
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			lines := strings.Split(rec.Body.String(), "\n")
			var out []string
			for i := 0; i < len(lines); i++ {
				if strings.Contains(lines[i], "RESOLUTION=854x480") {
					i++ // and its URI line
					continue
				}
				out = append(out, lines[i])
			}
			w.Header().Set("Content-Type", rec.Header().Get("Content-Type"))
			w.Write([]byte(strings.Join(out, "\n")))
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// TestEgressCapThroughLink is the "without degradation" half of the
// built-in egress-cap: its crowd straight from the synthetic origin (no
// edge), through the link the scenario sets, served "full" (as an edge
// that does not degrade serves it) and "degraded" (as an edge at level 2
// serves it, from the start). Full, the link fills and segments arrive
// over a second late, so egress-cap's thresholds fail; degraded, they
// hold.
//
// By default it runs a compact crowd: --scale 0.1 (a 38 Mbit/s link) and
// the 36 viewers arriving in 6 s, then 24 s of watching. With
// SIEGE_LINK_SCALE set it runs the built-in as written (2 minutes) at
// that scale and only reports.
func TestEgressCapThroughLink(t *testing.T) {
	if testing.Short() {
		t.Skip("plays live video for 30 s")
	}
	full := os.Getenv("SIEGE_LINK_SCALE") != ""
	for _, tc := range []struct {
		name string
		wrap func(http.Handler) http.Handler
	}{{"full", nil}, {"degraded", degraded}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := egressCap(t, full)
			srv := httptest.NewServer(synthWrapped(t, tc.wrap))
			defer srv.Close()
			rep, err := Run(t.Context(), Config{Scenario: s, Models: viewer.Models(), Target: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			WriteSummary(&b, rep)
			p := rep.Pops[0]
			t.Logf("%s\nswitches %d, segment latency %+v", b.String(), p.Viewers.Switches, p.ByKind["segment"])
			if full {
				return
			}
			checks := map[string]bool{}
			for _, c := range rep.Checks {
				checks[c.Expr] = c.Pass
			}
			switch {
			case tc.wrap == nil && (checks["segment_p99_ms <= 1000"] || rep.Link.FullSeconds < 5):
				t.Errorf("undegraded through the link: segment p99 within a second, or the link full %d s only: want it full, segments late", rep.Link.FullSeconds)
			case tc.wrap != nil && (!rep.Pass || rep.Link.FullSeconds > 2):
				t.Errorf("degraded: thresholds %+v, link full %d s: want every threshold held, the link never full", rep.Checks, rep.Link.FullSeconds)
			}
		})
	}
}

// egressCap returns the built-in egress-cap, compact (see
// TestEgressCapThroughLink) or as written at SIEGE_LINK_SCALE.
func egressCap(t *testing.T, full bool) *scenario.Scenario {
	t.Helper()
	s, err := scenario.Load("egress-cap", viewer.Models())
	if err != nil {
		t.Fatal(err)
	}
	if !full {
		s.Scale(0.1)
		s.Phases[0].Duration, s.Phases[0].Arrivals[0].From, s.Phases[0].Arrivals[0].To = 6*time.Second, 6, 6
		s.Phases[1].Duration = 24 * time.Second
		return s
	}
	scale, err := strconv.ParseFloat(os.Getenv("SIEGE_LINK_SCALE"), 64)
	if err != nil {
		t.Fatalf("SIEGE_LINK_SCALE: %v", err)
	}
	s.Scale(scale)
	return s
}

// synthWrapped is the synthetic origin (1 s segments), wrapped by wrap
// when not nil.
func synthWrapped(t *testing.T, wrap func(http.Handler) http.Handler) http.Handler {
	t.Helper()
	origin, err := synth.New(synth.Options{SegmentDuration: time.Second, Window: 6})
	if err != nil {
		t.Fatal(err)
	}
	if wrap == nil {
		return origin
	}
	return wrap(origin)
}

// TestLinkInProgressAndSummary: the live view shows each second's link
// rate, the summary the link's account.
func TestLinkInProgressAndSummary(t *testing.T) {
	var b strings.Builder
	v := 379.25
	NewProgress(&b, false).Tick(Tick{Phase: "capped", Pops: []scenario.Population{{Name: "v", Role: "viewer"}},
		Second: report.Second{Pops: []report.PopSecond{{Requests: 10}}, LinkMbps: &v}})
	if !strings.HasSuffix(b.String(), "| link 379.2 Mbit/s\n") {
		t.Errorf("progress %q: want the link's rate", b.String())
	}
	b.Reset()
	rep := &report.Report{Scenario: "egress-cap", Link: &report.Link{Mbps: 380, Bytes: 4_480_000_000, MeanMbps: 298.7,
		Utilization: 0.786, PeakMbps: 391, FullSeconds: 67, DelayS: 16480}}
	if err := WriteSummary(&b, rep); err != nil {
		t.Fatal(err)
	}
	want := "link: 380 Mbit/s shared by the viewers: carried 4480.0 MB, mean 298.7 Mbit/s (79% of capacity), peak 391.0 Mbit/s, 67 s at ≥ 95%"
	if !strings.Contains(b.String(), want) {
		t.Errorf("summary lacks %q:\n%s", want, b.String())
	}
}
