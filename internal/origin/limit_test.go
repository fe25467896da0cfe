package origin

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
)

const testWindow = time.Second

// fakeLimiter is a limiter driven by a fake clock, one window at a time.
type fakeLimiter struct {
	*limiter
	now   time.Time
	stats Stats
}

// newFakeLimiter returns a limiter from min to max starting at initial,
// tolerance 1.5, windows of testWindow.
func newFakeLimiter(min, initial, max int) *fakeLimiter {
	a := config.AdaptiveConcurrency{Enabled: true, MinLimit: min, InitialLimit: initial,
		Tolerance: 1.5, Window: testWindow}
	return &fakeLimiter{limiter: newLimiter(a, max, newGate(max)), now: time.Unix(1e9, 0)}
}

// run feeds n windows of 10 round trips each; load gives a round trip's
// latency and the slots held around it, from the gate's limit. It returns
// how many probes began.
func (f *fakeLimiter) run(n int, load func(limit int) (time.Duration, int)) (probes int) {
	for range n * 10 {
		rtt, held := load(f.gateLimit())
		f.now = f.now.Add(testWindow / 10)
		was := f.probe.on
		f.observe(f.now, rtt, held, &f.stats)
		if f.probe.on && !was {
			probes++
		}
	}
	return probes
}

// gateLimit is the limit the gate enforces now.
func (f *fakeLimiter) gateLimit() int { return f.gate.size() }

// estimate is the limit estimate, probes aside.
func (f *fakeLimiter) estimate() int { return int(f.current.Load()) }

// flat is a saturated origin whose latency does not depend on load.
func flat(rtt time.Duration) func(int) (time.Duration, int) {
	return func(limit int) (time.Duration, int) { return rtt, limit }
}

// knee is a saturated origin serving k requests at once in service time:
// past k in flight, requests queue and latency grows with the load.
func knee(k int, service time.Duration) func(int) (time.Duration, int) {
	return func(limit int) (time.Duration, int) {
		if limit <= k {
			return service, limit
		}
		return service * time.Duration(limit) / time.Duration(k), limit
	}
}

func TestLimitGrowsUnderFlatLatency(t *testing.T) {
	f := newFakeLimiter(4, 8, 100)
	prev := f.gateLimit()
	for range 20 {
		f.run(1, flat(20*time.Millisecond))
		if got := f.gateLimit(); got < prev && got != 4 {
			t.Fatalf("limit fell from %d to %d under flat latency", prev, got)
		}
		prev = max(prev, f.gateLimit())
	}
	if prev <= 20 {
		t.Fatalf("limit = %d after 20 windows of flat latency, want it well above 8", prev)
	}
	if f.stats.LimitRaises.Load() == 0 || f.stats.LimitCuts.Load() != 0 {
		t.Fatalf("raises, cuts = %d, %d; want some, 0", f.stats.LimitRaises.Load(), f.stats.LimitCuts.Load())
	}
	if got := time.Duration(f.noLoadRTT.Load()); got != 20*time.Millisecond {
		t.Fatalf("no-load RTT = %v, want 20ms", got)
	}
}

func TestLimitShrinksWhenLatencyClimbsAndRecovers(t *testing.T) {
	f := newFakeLimiter(4, 64, 100)
	f.run(5, flat(20*time.Millisecond))
	high := f.estimate()
	f.run(5, flat(100*time.Millisecond))
	low := f.estimate()
	if low >= high/2 {
		t.Fatalf("limit went from %d to %d as latency rose 5×, want under half", high, low)
	}
	if f.stats.LimitCuts.Load() == 0 {
		t.Fatal("no cut counted")
	}
	f.run(20, flat(20*time.Millisecond))
	if got := f.estimate(); got <= low*2 {
		t.Fatalf("limit = %d after latency came back, want it well above %d", got, low)
	}
}

func TestLimitStaysWithinBounds(t *testing.T) {
	tests := []struct {
		name    string
		rtt     time.Duration
		windows int
		want    int
	}{
		{"fast origin stops at max", 10 * time.Millisecond, 200, 40},
		// Within the no-load memory: later, 10s becomes the no-load
		// latency and the limit grows again, as it should.
		{"slow origin stops at min", 10 * time.Second, 40, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeLimiter(4, 20, 40)
			f.run(1, flat(10*time.Millisecond)) // no-load RTT: 10ms
			for range tt.windows {
				f.run(1, flat(tt.rtt))
				if got := f.gateLimit(); got < 4 || got > 40 {
					t.Fatalf("limit = %d, out of [4, 40]", got)
				}
			}
			if got := f.estimate(); got != tt.want {
				t.Fatalf("limit = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestLimitDoesNotGrowWhenUnused(t *testing.T) {
	f := newFakeLimiter(4, 32, 100)
	f.run(30, func(int) (time.Duration, int) { return 20 * time.Millisecond, 10 })
	if got := f.estimate(); got != 32 {
		t.Fatalf("limit = %d with 10 of 32 slots used, want 32", got)
	}
}

func TestLimitHalvesOnTimeout(t *testing.T) {
	f := newFakeLimiter(4, 64, 100)
	f.run(1, flat(20*time.Millisecond))
	f.now = f.now.Add(testWindow / 10)
	f.timeout(f.now, 64, &f.stats) // ends the first window, starts the next
	before := f.estimate()
	f.run(1, flat(20*time.Millisecond))
	if got := f.estimate(); got > before/2+1 {
		t.Fatalf("limit = %d after a timeout, want about half of %d", got, before)
	}
}

func TestLimitFindsKnee(t *testing.T) {
	const k = 16
	for _, initial := range []int{4, 32, 200} {
		f := newFakeLimiter(4, initial, 256)
		f.run(60, knee(k, 20*time.Millisecond))
		lo, hi := 1<<30, 0
		for range 60 {
			f.run(1, knee(k, 20*time.Millisecond))
			if !f.probe.on {
				lo, hi = min(lo, f.gateLimit()), max(hi, f.gateLimit())
			}
		}
		t.Logf("initial %d: limit in [%d, %d], knee %d", initial, lo, hi, k)
		if lo < k || hi > 2*k {
			t.Errorf("initial %d: limit ranged over [%d, %d], want within [%d, %d]", initial, lo, hi, k, 2*k)
		}
	}
}

func TestLimitProbesNoLoadLatency(t *testing.T) {
	f := newFakeLimiter(4, 32, 256)
	if got := f.gateLimit(); got != 4 {
		t.Fatalf("gate limit = %d at start, want MinLimit: a first probe measures the no-load latency", got)
	}
	f.run(1, knee(16, 20*time.Millisecond))
	if got := time.Duration(f.noLoadRTT.Load()); got != 20*time.Millisecond {
		t.Fatalf("no-load RTT = %v after the first probe, want 20ms", got)
	}
	// Always saturated: no round trip is quiet, so the limiter must pin
	// the gate to MinLimit now and then to see one.
	if probes := f.run(3*probeEvery, knee(16, 20*time.Millisecond)); probes < 2 || probes > 4 {
		t.Fatalf("%d probes in %d windows, want about one per %d", probes, 3*probeEvery, probeEvery)
	}
}

func TestNoLoadFollowsSlowerOrigin(t *testing.T) {
	f := newFakeLimiter(4, 32, 256)
	f.run(20, knee(16, 20*time.Millisecond))
	f.run(noLoadBuckets*noLoadBucketWindows+probeEvery, knee(16, 60*time.Millisecond))
	if got := time.Duration(f.noLoadRTT.Load()); got != 60*time.Millisecond {
		t.Fatalf("no-load RTT = %v after the origin slowed to 60ms, want 60ms", got)
	}
	if got := f.estimate(); got < 8 || got > 48 {
		t.Fatalf("limit = %d, want it near the knee (16)", got)
	}
}

func TestMinFilterForgets(t *testing.T) {
	var f minFilter
	f.add(10 * time.Millisecond)
	for range noLoadBucketWindows * (noLoadBuckets - 1) {
		f.next()
		f.add(50 * time.Millisecond)
	}
	if got := f.min(); got != 10*time.Millisecond {
		t.Fatalf("min = %v within the horizon, want 10ms", got)
	}
	for range noLoadBucketWindows {
		f.next()
		f.add(50 * time.Millisecond)
	}
	if got := f.min(); got != 50*time.Millisecond {
		t.Fatalf("min = %v past the horizon, want 50ms", got)
	}
}

// adaptiveUpstream is testUpstream with an adaptive limit from 4 to 64,
// starting at 32, windows of 100ms, and no retries.
func adaptiveUpstream(mod func(*config.Upstream)) config.Upstream {
	return testUpstream(func(u *config.Upstream) {
		u.MaxConcurrency = 64
		u.Retries = retriesOf(0)
		u.ResponseHeaderTimeout = 100 * time.Millisecond
		u.Adaptive = config.AdaptiveConcurrency{Enabled: true, MinLimit: 4, InitialLimit: 32,
			Tolerance: 1.5, Window: 100 * time.Millisecond}
		if mod != nil {
			mod(u)
		}
	})
}

func TestNewPoolRejectsAdaptive(t *testing.T) {
	good := []config.Origin{{URL: "http://127.0.0.1:1"}}
	tests := []struct {
		name    string
		mod     func(*config.Upstream)
		mention string
	}{
		{"min over max", func(u *config.Upstream) { u.Adaptive.MinLimit = 65 }, "min_limit 65"},
		{"zero min", func(u *config.Upstream) { u.Adaptive.MinLimit = 0 }, "min_limit 0"},
		{"initial under min", func(u *config.Upstream) { u.Adaptive.InitialLimit = 2 }, "initial_limit 2"},
		{"tolerance under 1", func(u *config.Upstream) { u.Adaptive.Tolerance = 0.5 }, "tolerance 0.5"},
		{"no window", func(u *config.Upstream) { u.Adaptive.Window = 0 }, "window 0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewPool("test", good, adaptiveUpstream(tt.mod), nil)
			if !errors.Is(err, ErrBadUpstream) || !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("err = %v, want ErrBadUpstream naming %q", err, tt.mention)
			}
		})
	}
	off := adaptiveUpstream(func(u *config.Upstream) { u.Adaptive = config.AdaptiveConcurrency{} })
	if _, err := NewPool("test", good, off, nil); err != nil {
		t.Fatalf("adaptive off with zero settings: %v", err)
	}
}

// tickingClock returns a now func that moves 1ms on every read, so each
// round trip through a pool takes 1ms, and a func to jump ahead.
func tickingClock() (now func() time.Time, jump func(time.Duration)) {
	var mu sync.Mutex
	t := time.Unix(1e9, 0)
	now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Millisecond)
		return t
	}
	jump = func(d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(d)
	}
	return now, jump
}

// TestPoolAdaptiveLimitOutcomes checks what the pool feeds the limiter: a
// first probe at MinLimit, then a header timeout halves the limit, and a
// caller who gives up changes nothing.
func TestPoolAdaptiveLimitOutcomes(t *testing.T) {
	var s switchable
	s.code.Store(http.StatusOK)
	o := newOrigin(t, s.serve)
	p := newTestPool(t, adaptiveUpstream(nil), o.URL)
	now, jump := tickingClock()
	p.now = now
	if got := p.Limits()[0].Limit; got != 4 {
		t.Fatalf("limit = %d at start, want 4 while probing", got)
	}
	fetchN(t, p, probeSamples)
	if got := p.Limits()[0]; got.Limit != 32 || got.NoLoadRTT != time.Millisecond {
		t.Fatalf("after the probe: limit %d, no-load %v; want 32, 1ms", got.Limit, got.NoLoadRTT)
	}

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "/a", nil)
	s.code.Store(0) // stall
	time.AfterFunc(20*time.Millisecond, cancel)
	if _, err := p.Fetch(ctx, req); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled fetch: %v", err)
	}
	jump(time.Second)
	s.code.Store(http.StatusOK)
	fetchN(t, p, 1) // ends the window
	if got := p.Limits()[0].Limit; got != 32 {
		t.Fatalf("limit = %d after a caller gave up, want 32", got)
	}

	s.code.Store(0)
	if _, err := fetch(t, p, http.MethodGet, "/a", ""); err == nil {
		t.Fatal("stalled fetch succeeded")
	}
	jump(time.Second)
	s.code.Store(http.StatusOK)
	fetchN(t, p, 1)
	if got := p.Limits()[0].Limit; got != 16 {
		t.Fatalf("limit = %d after a header timeout, want 16", got)
	}
	if p.Stats().LimitCuts.Load() != 1 {
		t.Fatalf("LimitCuts = %d, want 1", p.Stats().LimitCuts.Load())
	}
}
