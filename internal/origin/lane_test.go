package origin

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
)

// laneGate returns a gate of limit slots with the unknown lane's share,
// reading time from a clock the test moves.
func laneGate(limit int, share float64) (*gate, func(time.Duration)) {
	var mu sync.Mutex
	t := time.Unix(1e9, 0)
	g := newGate(limit)
	g.share = share
	g.now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return t
	}
	return g, func(d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(d)
	}
}

// take acquires n slots in lane at once or fails the test.
func take(t *testing.T, g *gate, lane Lane, n int) {
	t.Helper()
	for i := range n {
		if _, err := g.acquire(context.Background(), lane, time.Millisecond); err != nil {
			t.Fatalf("%s acquire %d: %v", lane, i+1, err)
		}
	}
}

// wantHeld checks the slots g holds, all lanes and unknown.
func wantHeld(t *testing.T, g *gate, held, unknown int) {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.held != held || g.heldUnknown != unknown {
		t.Fatalf("held %d (unknown %d), want %d (%d)", g.held, g.heldUnknown, held, unknown)
	}
}

func TestLaneOf(t *testing.T) {
	ctx := context.Background()
	if got := LaneOf(ctx); got != LaneKnown {
		t.Fatalf("LaneOf(no lane) = %s, want known", got)
	}
	if got := LaneOf(WithLane(ctx, LaneUnknown)); got != LaneUnknown {
		t.Fatalf("LaneOf(WithLane(unknown)) = %s", got)
	}
	if got := LaneOf(WithLane(WithLane(ctx, LaneUnknown), LaneKnown)); got != LaneKnown {
		t.Fatalf("inner WithLane(known) = %s, want known", got)
	}
}

func TestUnknownSlotsAndQueue(t *testing.T) {
	tests := []struct {
		limit       int
		share       float64
		slots, qlen int
	}{
		{8, 0.25, 2, 16},
		{256, 0.25, 64, 256},
		{1, 0.25, 1, 16},
		{3, 0.25, 1, 16},
		{10, 1, 10, 40},
	}
	for _, tt := range tests {
		if s, q := unknownSlots(tt.limit, tt.share), unknownQueue(tt.limit, tt.share); s != tt.slots || q != tt.qlen {
			t.Errorf("limit %d share %v: slots %d queue %d, want %d %d", tt.limit, tt.share, s, q, tt.slots, tt.qlen)
		}
	}
}

// TestGateUnknownShare: while known fetches flow, unknown ones hold at
// most their share, even with slots free.
func TestGateUnknownShare(t *testing.T) {
	g, _ := laneGate(8, 0.25)
	take(t, g, LaneKnown, 1)
	take(t, g, LaneUnknown, 2)
	if _, err := g.acquire(context.Background(), LaneUnknown, 10*time.Millisecond); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("third unknown with 5 slots free: %v, want ErrOverloaded (share 2 of 8)", err)
	}
	take(t, g, LaneKnown, 5)
	wantHeld(t, g, 8, 2)
}

// TestGateKnownFirst: a freed slot goes to a known waiter even if an
// unknown one queued before it.
func TestGateKnownFirst(t *testing.T) {
	g, _ := laneGate(4, 1)
	take(t, g, LaneUnknown, 4)
	unknown := acquireAsync(context.Background(), g, LaneUnknown, 5*time.Second)
	waitQueued(t, g, 1)
	known := acquireAsync(context.Background(), g, LaneKnown, 5*time.Second)
	waitQueued(t, g, 2)
	g.release(LaneUnknown)
	if err := <-known; err != nil {
		t.Fatalf("known waiter: %v", err)
	}
	select {
	case err := <-unknown:
		t.Fatalf("unknown waiter got the slot before the known one, or failed: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	g.release(LaneUnknown)
	if err := <-unknown; err != nil {
		t.Fatalf("unknown waiter: %v", err)
	}
}

// TestGateWorkConserving: with no known fetch for a second the unknown
// lane may use every slot; a known fetch caps it again.
func TestGateWorkConserving(t *testing.T) {
	g, advance := laneGate(8, 0.25)
	take(t, g, LaneUnknown, 8) // no known fetch ever: all slots
	g.release(LaneUnknown)
	take(t, g, LaneKnown, 1) // known traffic again: unknown capped at 2
	for range 7 {
		g.release(LaneUnknown)
	}
	take(t, g, LaneUnknown, 2)
	// 2 unknown held, 1 known: the next unknown waits though 5 are free.
	waiter := acquireAsync(context.Background(), g, LaneUnknown, 5*time.Second)
	waitQueued(t, g, 1)
	advance(knownRecency)
	g.release(LaneKnown) // the grant sees known traffic gone
	if err := <-waiter; err != nil {
		t.Fatalf("unknown waiter after a quiet second: %v", err)
	}
	take(t, g, LaneUnknown, 5)
	wantHeld(t, g, 8, 8)
}

// TestGateUnknownQueueBounded: past its queue bound the unknown lane
// refuses at once, and the known lane still queues.
func TestGateUnknownQueueBounded(t *testing.T) {
	g, _ := laneGate(4, 0.25)
	take(t, g, LaneKnown, 3)
	take(t, g, LaneUnknown, 1)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range unknownQueueMin {
		wg.Go(func() { _, _ = g.acquire(ctx, LaneUnknown, 5*time.Second) })
	}
	defer wg.Wait()
	defer cancel()
	waitQueued(t, g, unknownQueueMin)
	start := time.Now()
	if _, err := g.acquire(context.Background(), LaneUnknown, 5*time.Second); !errors.Is(err, ErrLaneFull) {
		t.Fatalf("unknown past the queue: %v, want ErrLaneFull", err)
	}
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Fatalf("refusal took %v, want at once", took)
	}
	known := acquireAsync(context.Background(), g, LaneKnown, 5*time.Second)
	waitQueued(t, g, unknownQueueMin+1)
	g.release(LaneKnown)
	if err := <-known; err != nil {
		t.Fatalf("known waiter behind a full unknown queue: %v", err)
	}
}

// TestGateLanesUnderChurn races both lanes with limit changes; run with
// -race. Slots in use never pass the highest limit, and all come back.
func TestGateLanesUnderChurn(t *testing.T) {
	const top = 8
	g := newGate(top)
	g.share = 0.25
	var inUse, peak atomic.Int64
	var workers sync.WaitGroup
	for i := range 32 {
		lane := Lane(i % 2)
		workers.Go(func() {
			for j := range 200 {
				if j%50 == 0 && lane == LaneKnown {
					g.setLimit(1 + j%top)
				}
				if _, err := g.acquire(context.Background(), lane, time.Millisecond); err != nil {
					continue
				}
				n := inUse.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				inUse.Add(-1)
				g.release(lane)
			}
		})
	}
	workers.Wait()
	if p := peak.Load(); p > top {
		t.Fatalf("%d slots in use at once, limit never above %d", p, top)
	}
	if g.held != 0 || g.heldUnknown != 0 || queued(g) != 0 {
		t.Fatalf("held %d, unknown %d, waiters %d at rest; want 0", g.held, g.heldUnknown, queued(g))
	}
}

// TestPoolLaneRefused: a pool refuses a fetch past the unknown queue with
// ErrLaneFull, counts it, sends nothing and does not retry.
func TestPoolLaneRefused(t *testing.T) {
	o := newOrigin(t, slowBody)
	p := newTestPool(t, testUpstream(func(u *config.Upstream) {
		u.MaxConcurrency = 1
		u.UnknownShare = 0.25
	}), o.URL)
	held, err := fetch(t, p, http.MethodGet, "/known", "")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Body.Close()
	ctx, cancel := context.WithCancel(WithLane(context.Background(), LaneUnknown))
	var wg sync.WaitGroup
	for range unknownQueueMin {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "/u", nil)
			if resp, err := p.Fetch(ctx, req); err == nil {
				resp.Body.Close()
			}
		})
	}
	defer wg.Wait()
	defer cancel()
	waitQueued(t, p.origins[0].slots, unknownQueueMin)
	req, _ := http.NewRequest(http.MethodGet, "/u", nil)
	_, err = p.Fetch(WithLane(context.Background(), LaneUnknown), req)
	if !errors.Is(err, ErrLaneFull) {
		t.Fatalf("fetch past the unknown queue: %v, want ErrLaneFull", err)
	}
	if n := p.Stats().LaneRefused.Load(); n != 1 {
		t.Fatalf("LaneRefused = %d, want 1", n)
	}
	if n := p.Stats().Retries.Load(); n != 0 || o.hits.Load() != 1 {
		t.Fatalf("retries %d, origin hits %d; want 0, 1", n, o.hits.Load())
	}
}
