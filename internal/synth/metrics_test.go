package synth

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape reads MetricsPath and returns synth_requests_total by kind,
// synth_segments_built_total under "built" and
// synth_requests_received_total under "received".
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, body := get(t, base+MetricsPath)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", MetricsPath, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse %s: %v\n%s", MetricsPath, err, body)
	}
	got := map[string]float64{}
	for _, m := range fams["synth_requests_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "kind" {
				got[l.GetValue()] = m.GetCounter().GetValue()
			}
		}
	}
	if b := fams["synth_segments_built_total"].GetMetric(); len(b) == 1 {
		got["built"] = b[0].GetCounter().GetValue()
	}
	if r := fams["synth_requests_received_total"].GetMetric(); len(r) == 1 {
		got["received"] = r[0].GetCounter().GetValue()
	}
	return got
}

func TestMetricsCountEachKind(t *testing.T) {
	clock := newFakeClock(testEpoch)
	_, ts := startServer(t, Options{Now: clock.Now})
	seg := fmt.Sprintf("/live/480p/%d.ts", testEpoch.Unix()/2)
	tests := []struct {
		name, path string
		kind       string
		built      float64 // growth of synth_segments_built_total
	}{
		{"segment", seg, "segment", 1},
		{"segment again (origin cache)", seg, "segment", 0},
		{"master", "/live/master.m3u8", "master", 0},
		{"media", "/live/480p/index.m3u8", "media", 0},
		{"track", "/ondemand/track1.wav", "track", 0},
		{"api", "/api/catalog", "api", 0},
		{"not found", "/nope", "not_found", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := scrape(t, ts.URL)
			get(t, ts.URL+tt.path)
			after := scrape(t, ts.URL)
			for _, k := range []string{"master", "media", "segment", "track", "api", "not_found"} {
				want := before[k]
				if k == tt.kind {
					want++
				}
				if after[k] != want {
					t.Errorf("kind %q: %v -> %v, want %v", k, before[k], after[k], want)
				}
			}
			if d := after["received"] - before["received"]; d != 1 {
				t.Errorf("received grew by %v, want 1", d)
			}
			if d := after["built"] - before["built"]; d != tt.built {
				t.Errorf("segments built grew by %v, want %v", d, tt.built)
			}
		})
	}
}
