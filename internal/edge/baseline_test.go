package edge_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/detect"
	"github.com/rempart/rempart/internal/edge"
)

// TestBaselineSurvivesRestart: with shield.detect.baseline_file, an edge
// saves its detector's baseline when it stops, and the next edge starts
// with it instead of cold.
func TestBaselineSurvivesRestart(t *testing.T) {
	o := newOrigin(t, segmentOrigin(0, 10))
	file := filepath.Join(t.TempDir(), "baseline.bin")
	learned := func(e *edge.Edge) int {
		resp, err := http.Get("http://" + e.AdminAddr() + "/api/detect")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var st detect.Status
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			t.Fatal(err)
		}
		return st.Evidence.Learned
	}
	// run starts an edge, waits until it has learned more than after
	// seconds, and stops it, returning what it had learned; a restarted
	// edge must have learned more than that from its first tick.
	run := func(after int, restarted bool) int {
		cfg := quick(t, o.URL)
		cfg.Admin.Listen = "127.0.0.1:0"
		cfg.Shield.Detect.Interval, cfg.Shield.Detect.BaselineFile = 100*time.Millisecond, file
		e, err := edge.New(cfg, edge.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		if err := e.Start(ctx); err != nil {
			t.Fatal(err)
		}
		first := -1
		eventually(t, 10*time.Second, func() bool {
			n := learned(e)
			if first < 0 && n > 0 {
				first = n
			}
			return n > after
		}, "seconds learned")
		n := learned(e)
		cancel()
		if err := e.Wait(); err != nil {
			t.Fatal(err)
		}
		if restarted && first <= after {
			t.Fatalf("the restarted edge's first tick had %d seconds learned, want more than the %d saved", first, after)
		}
		return n
	}
	saved := run(3, false)
	run(saved, true)
}
