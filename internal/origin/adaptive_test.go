package origin

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
)

// kneeOrigin serves at most k requests at once, each in service time;
// the rest queue inside it, so its latency grows with the load past k, as
// a real origin's does past its knee. It records the latency it gives
// (queue + service) while recording is on.
type kneeOrigin struct {
	*httptest.Server
	slots     chan struct{}
	service   time.Duration
	recording atomic.Bool
	mu        sync.Mutex      // guards latency
	latency   []time.Duration // bounded by the test's length
}

func newKneeOrigin(t *testing.T, k int, service time.Duration) *kneeOrigin {
	o := &kneeOrigin{slots: make(chan struct{}, k), service: service}
	o.Server = httptest.NewServer(http.HandlerFunc(o.serve))
	t.Cleanup(o.Close)
	return o
}

func (o *kneeOrigin) serve(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	select {
	case o.slots <- struct{}{}:
	case <-r.Context().Done():
		return
	}
	time.Sleep(o.service)
	<-o.slots
	if o.recording.Load() {
		o.mu.Lock()
		o.latency = append(o.latency, time.Since(start))
		o.mu.Unlock()
	}
	w.Write([]byte("segment"))
}

// take returns the latencies recorded and forgets them.
func (o *kneeOrigin) take() []time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	l := o.latency
	o.latency = nil
	return l
}

// loadResult is what one load run measured, after its warm-up.
type loadResult struct {
	p50, p90   time.Duration // origin latency
	p99        time.Duration
	fetchP50   time.Duration // Fetch to end of body, edge queue included
	throughput float64       // origin responses per second
	limits     []int         // the origin's limit, sampled
	overloaded uint64
}

// percentile returns the p-th percentile of d (sorted in place).
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[min(len(d)-1, int(p*float64(len(d))))]
}

// drive runs fetchers goroutines fetching through p for warm+measure, and
// measures the last measure of it.
func drive(t *testing.T, o *kneeOrigin, p *Pool, fetchers int, warm, measure time.Duration) loadResult {
	ctx, cancel := context.WithTimeout(context.Background(), warm+measure)
	defer cancel()
	var mu sync.Mutex // guards fetchTimes
	var fetchTimes []time.Duration
	var wg sync.WaitGroup
	for range fetchers {
		wg.Go(func() {
			for ctx.Err() == nil {
				start := time.Now()
				if err := fetchAll(ctx, p); err != nil || !o.recording.Load() {
					continue
				}
				mu.Lock()
				fetchTimes = append(fetchTimes, time.Since(start))
				mu.Unlock()
			}
		})
	}
	var res loadResult
	wg.Go(func() { res.limits = sampleLimits(ctx, o, p, warm) })
	wg.Wait()
	lat := o.take()
	res.p50, res.p90, res.p99 = percentile(lat, 0.5), percentile(lat, 0.9), percentile(lat, 0.99)
	res.fetchP50 = percentile(fetchTimes, 0.5)
	res.throughput = float64(len(lat)) / measure.Seconds()
	res.overloaded = p.Stats().Overloaded.Load()
	return res
}

// sampleLimits turns o's recording on after warm and samples p's limit
// every 50ms until ctx is done; it turns recording off at the end.
func sampleLimits(ctx context.Context, o *kneeOrigin, p *Pool, warm time.Duration) []int {
	if sleep(ctx, warm) != nil {
		return nil
	}
	o.recording.Store(true)
	defer o.recording.Store(false)
	var limits []int
	for sleep(ctx, 50*time.Millisecond) == nil {
		limits = append(limits, int(p.Limits()[0].Limit))
	}
	return limits
}

// fetchAll fetches one object through p and reads it to the end.
func fetchAll(ctx context.Context, p *Pool) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "/seg.ts", nil)
	if err != nil {
		return err
	}
	resp, err := p.Fetch(ctx, req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// kneePool is a pool over o with room for 256 requests in flight, and an
// adaptive limit starting at that ceiling when adaptive is set.
func kneePool(t *testing.T, o *kneeOrigin, adaptive bool) *Pool {
	up := testUpstream(func(u *config.Upstream) {
		u.MaxConcurrency = 256
		u.MaxIdleConns = 256
		u.QueueTimeout = 3 * time.Second
		u.ResponseHeaderTimeout = 5 * time.Second
		u.FetchTimeout = 5 * time.Second
		u.Adaptive = config.AdaptiveConcurrency{Enabled: adaptive, MinLimit: 4,
			InitialLimit: 256, Tolerance: 1.5, Window: 100 * time.Millisecond}
	})
	return newTestPool(t, up, o.URL)
}

// noLoadLatency is o's lowest latency for one request at a time: the
// median would carry the noise of a busy test machine into the bounds.
func noLoadLatency(t *testing.T, o *kneeOrigin) time.Duration {
	p := kneePool(t, o, false)
	o.recording.Store(true)
	for range 20 {
		if err := fetchAll(context.Background(), p); err != nil {
			t.Fatalf("no-load fetch: %v", err)
		}
	}
	o.recording.Store(false)
	return percentile(o.take(), 0)
}

// The knee test's origin serves kneeK requests at once, in kneeService
// each; kneeFetchers fetch from it all the time.
const (
	kneeK        = 16
	kneeService  = 20 * time.Millisecond
	kneeFetchers = 200
)

// TestAdaptiveLimitFindsOriginKnee drives 200 fetchers at an origin that
// serves 16 at once. A static cap of 256 lets them all in and the origin's
// latency grows about 12-fold; the adaptive limit, starting at 256 too,
// must find the knee and keep the queue at the edge, not in the origin.
func TestAdaptiveLimitFindsOriginKnee(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end load test of about 5s")
	}
	o := newKneeOrigin(t, kneeK, kneeService)
	noLoad := noLoadLatency(t, o)
	static := drive(t, o, kneePool(t, o, false), kneeFetchers, 300*time.Millisecond, time.Second)
	capacity := float64(kneeK) / kneeService.Seconds()
	if static.throughput < capacity/2 {
		// Latency figures from a starved machine are the scheduler's,
		// not the origin's: neither run would mean anything.
		t.Skipf("machine too busy: the static run drove %.0f/s of the origin's %.0f/s", static.throughput, capacity)
	}
	pa := kneePool(t, o, true)
	adaptive := drive(t, o, pa, kneeFetchers, 1500*time.Millisecond, 2*time.Second)
	t.Logf("no-load origin latency %v; origin capacity %.0f/s", noLoad, capacity)
	t.Logf("static 256:  origin p50 %v p90 %v p99 %v, fetch p50 %v, %.0f/s",
		static.p50, static.p90, static.p99, static.fetchP50, static.throughput)
	t.Logf("adaptive:    origin p50 %v p90 %v p99 %v, fetch p50 %v, %.0f/s, overloaded %d",
		adaptive.p50, adaptive.p90, adaptive.p99, adaptive.fetchP50, adaptive.throughput, adaptive.overloaded)
	t.Logf("adaptive limit: mean %.1f, samples %v; no-load RTT %v; raises %d, cuts %d (knee %d)",
		mean(adaptive.limits), adaptive.limits, pa.Limits()[0].NoLoadRTT,
		pa.Stats().LimitRaises.Load(), pa.Stats().LimitCuts.Load(), kneeK)
	checkKnee(t, noLoad, static, adaptive)
}

// checkKnee fails unless the static run overloaded the origin and the
// adaptive one found its knee. Throughput is not checked: a busy machine
// lowers it with no fault of the limiter, and a limit held within the band
// keeps it.
func checkKnee(t *testing.T, noLoad time.Duration, static, adaptive loadResult) {
	t.Helper()
	if static.p50 < 5*noLoad {
		t.Errorf("static cap: origin p50 %v, want at least 5× the no-load %v (no knee?)", static.p50, noLoad)
	}
	if m := mean(adaptive.limits); m < kneeK/2 || m > 3*kneeK {
		t.Errorf("adaptive limit averaged %.1f, want within [%d, %d] around the knee %d", m, kneeK/2, 3*kneeK, kneeK)
	}
	// At the knee's band the origin's latency is 1 to 3 times its no-load
	// value; the bounds leave room for a busy test machine, and stay far
	// under the static run's (about 13 times).
	if adaptive.p50 > 5*noLoad/2 || adaptive.p90 > 5*noLoad {
		t.Errorf("adaptive: origin p50 %v p90 %v, want at most 2.5× and 5× the no-load %v",
			adaptive.p50, adaptive.p90, noLoad)
	}
}

// mean is the average of v, 0 when empty.
func mean(v []int) float64 {
	if len(v) == 0 {
		return 0
	}
	sum := 0
	for _, x := range v {
		sum += x
	}
	return float64(sum) / float64(len(v))
}
