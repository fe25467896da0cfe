package edge

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/rempart/rempart/internal/telemetry"
)

// The adapter from the domain packages' plain Stats to Prometheus: one
// collector reads the atomics at scrape time, so the request path never
// touches the Prometheus client. Labels are small and fixed (class,
// outcome, site, origin URL from the config): never a client address.
var (
	descRequests = prometheus.NewDesc("rempart_requests_total",
		"Requests answered by the edge, by route class and outcome (hit, miss, coalesced, stale, pass, refused, error).",
		[]string{"class", "outcome"}, nil)
	descBytes = prometheus.NewDesc("rempart_response_bytes_total",
		"Response body bytes sent to clients, by route class.", []string{"class"}, nil)
	descDuration = prometheus.NewDesc("rempart_request_duration_seconds",
		"Time from a request's arrival to the end of its response, by route class.", []string{"class"}, nil)
	descViewers = prometheus.NewDesc("rempart_viewers",
		"Distinct client addresses that fetched a live playlist or segment in the last 30 s.", nil, nil)
	descViewersSat = prometheus.NewDesc("rempart_viewers_table_full",
		"1 when the viewer table is full and rempart_viewers undercounts.", nil, nil)
	descReady = prometheus.NewDesc("rempart_ready",
		"1 while the edge accepts requests, 0 while it starts or drains.", nil, nil)
	descReloads = prometheus.NewDesc("rempart_config_reloads_total",
		"Configuration reloads, by result (ok: applied; error: refused, old configuration kept).", []string{"result"}, nil)
)

// collector exports an Edge's statistics.
type collector struct{ e *Edge }

var _ prometheus.Collector = collector{}

// newRegistry builds the edge's own (non-global) registry: its collector
// plus the Go runtime and process collectors.
func newRegistry(e *Edge) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector{e},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Describe sends every descriptor the collector may emit.
func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRequests, descBytes, descDuration, descViewers,
		descViewersSat, descReady, descReloads} {
		ch <- d
	}
	describeOrigin(ch)
	describeCache(ch)
	describeShield(ch)
	describeAdmission(ch)
	describeStream(ch)
}

// Collect reads the statistics at scrape time.
func (c collector) Collect(ch chan<- prometheus.Metric) {
	c.collectRequests(ch)
	e := c.e
	n, sat := e.stats.Viewers.Count(e.now())
	ch <- gauge(descViewers, float64(n))
	ch <- gauge(descViewersSat, boolFloat(sat))
	ch <- gauge(descReady, boolFloat(e.ready.Load()))
	ch <- counter(descReloads, float64(e.reloads[0].Load()), "ok")
	ch <- counter(descReloads, float64(e.reloads[1].Load()), "error")
	collectOrigin(ch, e.pipe.Load())
	collectStream(ch, e)
	collectCache(ch, e.store.Stats())
	collectAdmission(ch, e)
	collectShield(ch, e)
}

func (c collector) collectRequests(ch chan<- prometheus.Metric) {
	s := c.e.stats
	for cl := telemetry.ClassUnknown; cl < telemetry.NumClasses; cl++ {
		name := cl.String()
		for o := telemetry.OutcomeHit; o < telemetry.NumOutcomes; o++ {
			ch <- counter(descRequests, float64(s.Requests(cl, o)), name, o.String())
		}
		ch <- counter(descBytes, float64(s.Bytes(cl)), name)
		ch <- histogram(descDuration, s.Latency(cl), name)
	}
}

func counter(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
}

func gauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func histogram(d *prometheus.Desc, h *telemetry.Histogram, labels ...string) prometheus.Metric {
	buckets, count, sum := h.Snapshot()
	return prometheus.MustNewConstHistogram(d, count, sum, buckets, labels...)
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
