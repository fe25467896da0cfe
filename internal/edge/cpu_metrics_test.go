package edge_test

import (
	"testing"

	"github.com/rempart/rempart/internal/edge"
)

// TestPressureMetrics: the edge says what its CPU gets and what share it
// puts sources under.
func TestPressureMetrics(t *testing.T) {
	o := newOrigin(t, segmentOrigin(0, 1000))
	e := startEdge(t, quick(t, o.URL), edge.Options{})
	m := scrape(t, e)
	for _, name := range []string{"rempart_cpu_saturated ", "rempart_sched_latency_p99_seconds ", "rempart_fair_share_rate ",
		`rempart_shield_refused_total{reason="busy"} `} {
		if metricLine(m, name) == "" {
			t.Errorf("no %s in the metrics", name)
		}
	}
}
