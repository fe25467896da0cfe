package edge_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/rempart/rempart/internal/edge"
)

// TestUnknownNameGateWired: made-up segment names outside any stream get
// 404 from the origin until the site's unknown-name gate closes, then 404
// from the edge itself; with sites[].unknown_gate: false every one goes to
// the origin.
func TestUnknownNameGateWired(t *testing.T) {
	const n = 60
	for _, tt := range []struct {
		name     string
		gate     bool
		atMostTo int64 // origin requests
	}{
		{"on", true, 16 + 3}, // the 16 that close it, a probe a second
		{"off", false, n},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
			cfg := quick(t, o.URL)
			cfg.Sites[0].UnknownGate = &tt.gate
			e := startEdge(t, cfg, edge.Options{})
			for i := range n {
				if code, _, _ := get(t, http.DefaultClient, fmt.Sprintf("http://%s/x%d.ts", e.Addr(), i)); code != http.StatusNotFound {
					t.Fatalf("request %d: %d, want 404", i, code)
				}
			}
			got := o.all.Load()
			if got > tt.atMostTo || (!tt.gate && got != n) {
				t.Fatalf("origin saw %d of %d made-up names, want at most %d", got, n, tt.atMostTo)
			}
			l := metricLine(scrape(t, e), "rempart_cache_unknown_refused_total")
			if refused := !strings.HasSuffix(l, " 0"); refused != tt.gate {
				t.Fatalf("metrics: %q; refusals counted: %v, want %v", l, refused, tt.gate)
			}
		})
	}
}
