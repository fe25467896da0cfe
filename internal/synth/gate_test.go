package synth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitFor polls cond until it holds or a second has passed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestGateQueuesThenRefuses(t *testing.T) {
	g := newGate(Options{MaxConcurrent: 1, MaxQueue: 1})
	ctx := context.Background()
	if err := g.enter(ctx); err != nil {
		t.Fatalf("first enter: %v", err)
	}
	queued := make(chan error, 1)
	go func() { queued <- g.enter(ctx) }()
	waitFor(t, "the second request to queue", func() bool { return g.queued.Load() == 1 })
	if err := g.enter(ctx); !errors.Is(err, errOverloaded) {
		t.Fatalf("third enter with the slot busy and the queue full: %v, want errOverloaded", err)
	}
	g.leave()
	if err := <-queued; err != nil {
		t.Fatalf("queued enter: %v", err)
	}
	g.leave()
	if n := len(g.slots); n != 0 || g.queued.Load() != 0 {
		t.Errorf("after leaving: %d slots held, %d queued", n, g.queued.Load())
	}
}

func TestGateQueuedClientLeaves(t *testing.T) {
	g := newGate(Options{MaxConcurrent: 1, MaxQueue: 4})
	if err := g.enter(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.enter(ctx) }()
	waitFor(t, "the request to queue", func() bool { return g.queued.Load() == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("enter of a client that left: %v, want context.Canceled", err)
	}
	if g.queued.Load() != 0 {
		t.Errorf("a client that left still counts as queued")
	}
}

func TestNoGateWithoutLimit(t *testing.T) {
	if g := newGate(Options{}); g != nil {
		t.Fatalf("newGate without MaxConcurrent = %+v, want nil", g)
	}
}

// TestWeakOrigin: two slots and a queue of one serve three requests sent
// at once and refuse the fourth with a 503 that caches must not keep;
// every request is counted as received, the metrics page is answered at
// once while the slots are busy, and is not counted.
func TestWeakOrigin(t *testing.T) {
	s, ts := startServer(t, Options{MaxConcurrent: 2, MaxQueue: 1, Latency: 300 * time.Millisecond})
	var wg sync.WaitGroup
	codes := make(chan int, 3)
	send := func() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(ts.URL + "/healthz")
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	send()
	send()
	waitFor(t, "two requests in their slots", func() bool { return len(s.gate.slots) == 2 })
	send()
	waitFor(t, "a request in the queue", func() bool { return s.gate.queued.Load() == 1 })

	start := time.Now()
	m := scrape(t, ts.URL)
	if el := time.Since(start); el > 200*time.Millisecond {
		t.Errorf("metrics page took %v with every slot busy, want it outside the origin's capacity", el)
	}
	resp, body := get(t, ts.URL+"/healthz")
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" ||
		resp.Header.Get("Cache-Control") != "no-store" || !strings.Contains(string(body), "overloaded") {
		t.Fatalf("fourth request: %s %v %q, want 503 overloaded, Retry-After 1, no-store", resp.Status, resp.Header, body)
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Errorf("a request within capacity got %d", c)
		}
	}
	if got, want := s.Stats().Received.Load(), int64(4); got != want {
		t.Errorf("Received = %d, want %d (the metrics page is not counted)", got, want)
	}
	if got := s.Stats().Overloaded.Load(); got != 1 {
		t.Errorf("Overloaded = %d, want 1", got)
	}
	if m["received"] != 3 {
		t.Errorf("synth_requests_received_total mid-run = %v, want 3", m["received"])
	}
	if after := scrape(t, ts.URL); after["overloaded"] != 1 || after["received"] != 4 {
		t.Errorf("metrics after: overloaded %v received %v, want 1 and 4", after["overloaded"], after["received"])
	}
}

// TestRenditionsOption: Renditions 2 offers the two lowest renditions
// and nothing of the third.
func TestRenditionsOption(t *testing.T) {
	_, ts := startServer(t, Options{Renditions: 2})
	_, master := get(t, ts.URL+"/live/master.m3u8")
	if got := strings.Count(string(master), "#EXT-X-STREAM-INF"); got != 2 ||
		!strings.Contains(string(master), "240p/index.m3u8") || !strings.Contains(string(master), "360p/index.m3u8") {
		t.Fatalf("master with Renditions 2:\n%s", master)
	}
	if resp, _ := get(t, ts.URL+"/live/480p/index.m3u8"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("480p playlist: %s, want 404", resp.Status)
	}
}

// TestMaxRenditionsIsTheLoop: the bound Validate applies is what the
// embedded loop holds.
func TestMaxRenditionsIsTheLoop(t *testing.T) {
	l, err := loadLoop(assetFS)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.renditions) != MaxRenditions {
		t.Errorf("the loop has %d renditions, MaxRenditions is %d", len(l.renditions), MaxRenditions)
	}
}
