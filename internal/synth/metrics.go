package synth

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MetricsPath is where the origin serves its request counters in the
// Prometheus text format, so that a load test (rempart siege, the
// bench/siege-compare.sh scoreboard) counts origin requests the same way
// whatever proxy stands in front: rempart, nginx or Varnish. Requests for
// it are not counted in Stats, and neither Options.Latency nor
// Options.MaxConcurrent applies to it.
const MetricsPath = "/_synth/metrics"

var (
	descRequests = prometheus.NewDesc("synth_requests_total",
		"Requests answered by the synthetic origin, by kind (master, media, segment, track, api, not_found; overloaded: refused with 503, every slot busy and the queue full).",
		[]string{"kind"}, nil)
	descBuilt = prometheus.NewDesc("synth_segments_built_total",
		"Live segments generated (the origin's own segment-cache misses).", nil, nil)
	descReceived = prometheus.NewDesc("synth_requests_received_total",
		"Requests that reached the synthetic origin, served or refused (the metrics page excepted).", nil, nil)
)

// statsCollector exports a Server's Stats; it reads the atomics at scrape
// time, so serving a request never touches the Prometheus client.
type statsCollector struct{ s *Stats }

var _ prometheus.Collector = statsCollector{}

// Describe sends every descriptor the collector may emit.
func (c statsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descRequests
	ch <- descBuilt
	ch <- descReceived
}

// Collect reads the counters.
func (c statsCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	for _, k := range []struct {
		kind string
		n    int64
	}{
		{"master", s.Master.Load()},
		{"media", s.Media.Load()},
		{"segment", s.Segments.Load()},
		{"track", s.Tracks.Load()},
		{"api", s.API.Load()},
		{"not_found", s.NotFound.Load()},
		{"overloaded", s.Overloaded.Load()},
	} {
		ch <- prometheus.MustNewConstMetric(descRequests, prometheus.CounterValue, float64(k.n), k.kind)
	}
	ch <- prometheus.MustNewConstMetric(descBuilt, prometheus.CounterValue, float64(s.SegmentsBuilt.Load()))
	ch <- prometheus.MustNewConstMetric(descReceived, prometheus.CounterValue, float64(s.Received.Load()))
}

// newMetricsHandler serves s from a registry of its own (never the global
// one: several origins live in one test binary).
func newMetricsHandler(s *Stats) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(statsCollector{s})
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
