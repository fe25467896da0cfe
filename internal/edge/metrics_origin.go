package edge

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rempart/rempart/internal/origin"
)

var (
	descOriginResponses = prometheus.NewDesc("rempart_origin_responses_total",
		"Origin responses by site and status class (per attempt: retries count).", []string{"site", "code"}, nil)
	descOriginErrors = prometheus.NewDesc("rempart_origin_errors_total",
		"Origin attempts that got no response (connection errors, timeouts), by site.", []string{"site"}, nil)
	descOriginClientBody = prometheus.NewDesc("rempart_origin_client_body_errors_total",
		"Origin attempts cut short by the client's request body (malformed, too large, client gone): not the origin's fault, by site.", []string{"site"}, nil)
	descOriginRetries = prometheus.NewDesc("rempart_origin_retries_total",
		"Origin attempts beyond a fetch's first, by site.", []string{"site"}, nil)
	descOriginOverloaded = prometheus.NewDesc("rempart_origin_overloaded_total",
		"Fetches refused because the origin's concurrency cap stayed full past the queue timeout.", []string{"site"}, nil)
	descOriginLaneRefused = prometheus.NewDesc("rempart_origin_lane_refused_total",
		"Fetches refused at once because their lane's queue was full (upstream.unknown_share), by site and lane.", []string{"site", "lane"}, nil)
	descOriginBreakerRejected = prometheus.NewDesc("rempart_origin_breaker_rejected_total",
		"Fetches refused at once because every origin's circuit breaker was open.", []string{"site"}, nil)
	descOriginInFlight = prometheus.NewDesc("rempart_origin_in_flight",
		"Origin requests in flight now, by site.", []string{"site"}, nil)
	descOriginLatency = prometheus.NewDesc("rempart_origin_latency_seconds",
		"Time from sending a request to an origin to its response headers, by site.", []string{"site"}, nil)
	descOriginBreaker = prometheus.NewDesc("rempart_origin_breaker_state",
		"Circuit breaker state per origin: 0 closed, 1 half-open, 2 open.", []string{"site", "origin"}, nil)
	descOriginLimit = prometheus.NewDesc("rempart_origin_concurrency_limit",
		"Most requests an origin may have in flight now: max_concurrency, or the adaptive limit.", []string{"site", "origin"}, nil)
	descOriginNoLoad = prometheus.NewDesc("rempart_origin_no_load_latency_seconds",
		"The adaptive limiter's estimate of an origin's latency without load (to response headers).", []string{"site", "origin"}, nil)
	descOriginLimitChanges = prometheus.NewDesc("rempart_origin_limit_changes_total",
		"Times an adaptive concurrency limit rose or fell, by site and direction (raise, cut).", []string{"site", "direction"}, nil)
)

func describeOrigin(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descOriginResponses, descOriginErrors, descOriginClientBody, descOriginRetries,
		descOriginOverloaded, descOriginLaneRefused, descOriginBreakerRejected, descOriginInFlight, descOriginLatency, descOriginBreaker,
		descOriginLimit, descOriginNoLoad, descOriginLimitChanges} {
		ch <- d
	}
}

// collectOrigin exports the pools of the pipeline in force. Counters restart
// from zero when a reload rebuilds the pools; Prometheus' rate() handles
// such resets.
func collectOrigin(ch chan<- prometheus.Metric, p *pipeline) {
	for i, pool := range p.pools {
		site := p.sites[i]
		s := pool.Stats()
		ch <- counter(descOriginResponses, float64(s.Status2xx.Load()), site, "2xx")
		ch <- counter(descOriginResponses, float64(s.Status3xx.Load()), site, "3xx")
		ch <- counter(descOriginResponses, float64(s.Status4xx.Load()), site, "4xx")
		ch <- counter(descOriginResponses, float64(s.Status5xx.Load()), site, "5xx")
		ch <- counter(descOriginErrors, float64(s.Errors.Load()), site)
		ch <- counter(descOriginClientBody, float64(s.ClientBodyErrors.Load()), site)
		ch <- counter(descOriginRetries, float64(s.Retries.Load()), site)
		ch <- counter(descOriginOverloaded, float64(s.Overloaded.Load()), site)
		ch <- counter(descOriginLaneRefused, float64(s.LaneRefused.Load()), site, origin.LaneUnknown.String())
		ch <- counter(descOriginBreakerRejected, float64(s.BreakerRejected.Load()), site)
		ch <- gauge(descOriginInFlight, float64(s.InFlight.Load()), site)
		ch <- histogram(descOriginLatency, &s.Latency, site)
		ch <- counter(descOriginLimitChanges, float64(s.LimitRaises.Load()), site, "raise")
		ch <- counter(descOriginLimitChanges, float64(s.LimitCuts.Load()), site, "cut")
		for _, o := range pool.Origins() {
			ch <- gauge(descOriginBreaker, float64(o.Breaker), site, o.URL)
		}
		collectOriginLimits(ch, site, pool.Limits())
	}
}

// collectOriginLimits exports each origin's concurrency limit, and its
// no-load latency once an adaptive limiter has measured one.
func collectOriginLimits(ch chan<- prometheus.Metric, site string, limits []origin.OriginLimit) {
	for _, l := range limits {
		ch <- gauge(descOriginLimit, float64(l.Limit), site, l.URL)
		if l.NoLoadRTT > 0 {
			ch <- gauge(descOriginNoLoad, l.NoLoadRTT.Seconds(), site, l.URL)
		}
	}
}
