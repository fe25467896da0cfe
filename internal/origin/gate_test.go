package origin

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// queued reports how many waiters g has.
func queued(g *gate) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.waiters[LaneKnown].Len() + g.waiters[LaneUnknown].Len()
}

// waitQueued waits until g has n waiters.
func waitQueued(t *testing.T, g *gate, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for queued(g) != n {
		if time.Now().After(deadline) {
			t.Fatalf("waiters = %d, want %d", queued(g), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// acquireAsync acquires in lane in a goroutine and reports the result on
// the returned channel.
func acquireAsync(ctx context.Context, g *gate, lane Lane, wait time.Duration) <-chan error {
	got := make(chan error, 1)
	go func() {
		_, err := g.acquire(ctx, lane, wait)
		got <- err
	}()
	return got
}

func TestGateFastPathDoesNotAllocate(t *testing.T) {
	g := newGate(4)
	ctx := context.Background()
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := g.acquire(ctx, LaneKnown, time.Second); err != nil {
			t.Fatal(err)
		}
		g.release(LaneKnown)
	})
	if allocs != 0 {
		t.Fatalf("acquire+release allocates %v times, want 0", allocs)
	}
}

func TestGateRaiseWakesWaiter(t *testing.T) {
	g := newGate(1)
	if _, err := g.acquire(context.Background(), LaneKnown, time.Second); err != nil {
		t.Fatal(err)
	}
	got := acquireAsync(context.Background(), g, LaneKnown, 5*time.Second)
	waitQueued(t, g, 1)
	if applied := g.setLimit(2); applied != 2 {
		t.Fatalf("setLimit(2) applied %d", applied)
	}
	if err := <-got; err != nil {
		t.Fatalf("waiter after a raise: %v", err)
	}
}

func TestGateCutKeepsHeldSlots(t *testing.T) {
	g := newGate(3)
	for range 3 {
		if _, err := g.acquire(context.Background(), LaneKnown, time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if applied := g.setLimit(0); applied != 1 {
		t.Fatalf("setLimit(0) applied %d, want 1", applied)
	}
	g.release(LaneKnown)
	if _, err := g.acquire(context.Background(), LaneKnown, 10*time.Millisecond); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("acquire with 2 held over a limit of 1: %v, want ErrOverloaded", err)
	}
	g.release(LaneKnown)
	g.release(LaneKnown)
	if n, err := g.acquire(context.Background(), LaneKnown, time.Second); err != nil || n != 1 {
		t.Fatalf("acquire after the cut drained = %d, %v; want 1, nil", n, err)
	}
}

func TestGateServesInOrder(t *testing.T) {
	g := newGate(1)
	if _, err := g.acquire(context.Background(), LaneKnown, time.Second); err != nil {
		t.Fatal(err)
	}
	first := acquireAsync(context.Background(), g, LaneKnown, 5*time.Second)
	waitQueued(t, g, 1)
	second := acquireAsync(context.Background(), g, LaneKnown, 5*time.Second)
	waitQueued(t, g, 2)
	g.release(LaneKnown)
	if err := <-first; err != nil {
		t.Fatalf("first waiter: %v", err)
	}
	select {
	case err := <-second:
		t.Fatalf("second waiter overtook or failed: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	g.release(LaneKnown)
	if err := <-second; err != nil {
		t.Fatalf("second waiter: %v", err)
	}
}

func TestGateWaiterGivesUp(t *testing.T) {
	tests := []struct {
		name   string
		cancel bool
		want   error
	}{
		{"queue timeout", false, ErrOverloaded},
		{"caller gone", true, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGate(1)
			if _, err := g.acquire(context.Background(), LaneKnown, time.Second); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			wait := 5 * time.Second
			if !tt.cancel {
				wait = 20 * time.Millisecond
			}
			got := acquireAsync(ctx, g, LaneKnown, wait)
			waitQueued(t, g, 1)
			if tt.cancel {
				cancel()
			}
			if err := <-got; !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if n := queued(g); n != 0 || g.held != 1 {
				t.Fatalf("waiters, held = %d, %d after giving up; want 0, 1", n, g.held)
			}
		})
	}
}

// TestGateUnderChurn races acquires, releases, give-ups and limit changes;
// run with -race. The slots in use must never pass the highest limit, and
// every slot must come back.
func TestGateUnderChurn(t *testing.T) {
	const top = 8
	g := newGate(top)
	var inUse, peak atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Microsecond):
				g.setLimit(1 + i%top)
			}
		}
	})
	var workers sync.WaitGroup
	for range 32 {
		workers.Go(func() {
			for range 200 {
				if _, err := g.acquire(context.Background(), LaneKnown, time.Millisecond); err != nil {
					continue
				}
				n := inUse.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				inUse.Add(-1)
				g.release(LaneKnown)
			}
		})
	}
	workers.Wait()
	close(stop)
	wg.Wait()
	if p := peak.Load(); p > top {
		t.Fatalf("%d slots in use at once, limit never above %d", p, top)
	}
	if g.held != 0 || queued(g) != 0 {
		t.Fatalf("held, waiters = %d, %d at rest; want 0, 0", g.held, queued(g))
	}
}

// TestUnknownLaneBacksOff: unknown fetches that fail halve the unknown
// lane's ceiling down to one slot; successes give slots back one by one.
func TestUnknownLaneBacksOff(t *testing.T) {
	g := newGate(64)
	g.share = 0.25 // 16 slots for the unknown lane
	g.lastKnown = time.Now()
	capNow := func() int { g.mu.Lock(); defer g.mu.Unlock(); return g.unknownCapLocked(time.Now()) }
	if c := capNow(); c != 16 {
		t.Fatalf("cap %d, want the share's 16", c)
	}
	for range 10 {
		g.unknownOutcome(true)
	}
	if c := capNow(); c != 1 {
		t.Fatalf("after failures cap %d, want 1", c)
	}
	for range 15 {
		g.unknownOutcome(false)
	}
	if c := capNow(); c != 16 || g.unknownCeil != 0 {
		t.Fatalf("after successes cap %d ceil %d, want 16 and no ceiling", c, g.unknownCeil)
	}
}
