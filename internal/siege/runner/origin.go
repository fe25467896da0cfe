package runner

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/rempart/rempart/internal/siege/report"
)

// DefaultOriginMetric is the counter read from --origin-metrics by default:
// the edge's shared origin fetches, every object.
const DefaultOriginMetric = "rempart_cache_origin_fetches_total"

// DefaultSegmentMetric selects, by default, the origin fetches of segments
// alone: the edge's segment misses (one per shared fetch). Origin requests
// per segment are computed from it, so that playlist refreshes do not
// inflate the figure.
const DefaultSegmentMetric = `rempart_requests_total{class="segment",outcome="miss"}`

const (
	scrapeTimeout = 900 * time.Millisecond
	maxScrape     = 16 << 20 // bytes of a metrics page read
)

// scraper reads one counter from a Prometheus text endpoint. Only the tick
// goroutine uses it during the run, and the runner after it.
type scraper struct {
	target  *Target
	metric  Selector // all origin requests
	segment Selector // origin requests for segments
	client  *http.Client
	first   [2]float64 // metric, segment at the first reading
	prev    [2]float64 // and at the last
	ok      bool       // first and prev hold a reading
	warned  bool       // the first failure was logged
	log     *slog.Logger
	metrURL string
}

func newScraper(ctx context.Context, raw, metric, segment string, own bool, res Resolver, log *slog.Logger) (*scraper, error) {
	t, err := CheckTarget(ctx, raw, own, res)
	if err != nil {
		return nil, fmt.Errorf("--origin-metrics: %w", err)
	}
	m, err := ParseSelector(cmpOr(metric, DefaultOriginMetric))
	if err != nil {
		return nil, fmt.Errorf("--origin-metric: %w", err)
	}
	seg, err := ParseSelector(cmpOr(segment, DefaultSegmentMetric))
	if err != nil {
		return nil, fmt.Errorf("--origin-segment-metric: %w", err)
	}
	return &scraper{target: t, metric: m, segment: seg, metrURL: raw, log: log,
		client: &http.Client{Timeout: scrapeTimeout}}, nil
}

// begin takes the first reading.
func (s *scraper) begin(ctx context.Context) {
	if s != nil {
		s.delta(ctx)
	}
}

// delta reads the counter and returns its growth since the previous
// reading; nil when this or every earlier reading failed.
func (s *scraper) delta(ctx context.Context) *float64 {
	if s == nil {
		return nil
	}
	v, err := s.read(context.WithoutCancel(ctx))
	if err != nil {
		if !s.warned {
			s.warned = true
			s.log.Warn("siege: cannot read the origin's metrics; origin figures will be missing", "url", s.metrURL, "err", err)
		}
		return nil
	}
	if !s.ok {
		s.first, s.prev, s.ok = v, v, true
		return nil
	}
	d := max(v[0]-s.prev[0], 0) // a restarted origin resets its counter
	s.prev = v
	return &d
}

// read fetches the metrics page once and returns both counters; a missing
// segment series reads as 0 (the edge may have fetched no segment yet).
func (s *scraper) read(ctx context.Context) ([2]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, scrapeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.target.URL.String(), nil)
	if err != nil {
		return [2]float64{}, err
	}
	req.Host = s.target.Host
	resp, err := s.client.Do(req)
	if err != nil {
		return [2]float64{}, fmt.Errorf("read origin metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return [2]float64{}, fmt.Errorf("read origin metrics: %s", resp.Status)
	}
	page, err := io.ReadAll(io.LimitReader(resp.Body, maxScrape))
	if err != nil {
		return [2]float64{}, fmt.Errorf("read origin metrics: %w", err)
	}
	v, found, err := ParseCounter(bytes.NewReader(page), s.metric)
	if err == nil && !found {
		err = fmt.Errorf("read origin metrics: no %s in %s", s.metric, s.metrURL)
	}
	if err != nil {
		return [2]float64{}, err
	}
	seg, _, err := ParseCounter(bytes.NewReader(page), s.segment)
	return [2]float64{v, seg}, err
}

// account takes the last reading and sums up the origin's side of the
// run; nil when the metrics could never be read.
func (s *scraper) account(rec *Recorder) *report.Origin {
	if s == nil {
		return nil
	}
	s.delta(context.Background())
	if !s.ok {
		return nil // never read: no figures rather than zeros
	}
	o := &report.Origin{MetricsURL: s.metrURL, SegmentsServed: rec.SegmentsServed(),
		Requests: s.prev[0] - s.first[0], SegmentRequests: s.prev[1] - s.first[1]}
	if n := rec.DistinctSegments(); n > 0 {
		o.RequestsPerSegment = o.SegmentRequests / float64(n)
	}
	return o
}
