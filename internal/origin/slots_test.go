package origin

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
)

// capped returns a pool with one slot over an origin whose bodies stay
// open until the client closes them.
func capped(t *testing.T, queue time.Duration) (*Pool, *fakeOrigin) {
	o := newOrigin(t, slowBody)
	up := testUpstream(func(u *config.Upstream) {
		u.MaxConcurrency = 1
		u.QueueTimeout = queue
	})
	return newTestPool(t, up, o.URL), o
}

func TestConcurrencyCapOverloads(t *testing.T) {
	p, o := capped(t, 100*time.Millisecond)
	first, err := fetch(t, p, http.MethodGet, "/a", "")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = fetch(t, p, http.MethodGet, "/b", "")
	if !errors.Is(err, ErrOverloaded) {
		t.Fatalf("second fetch err = %v, want ErrOverloaded", err)
	}
	if took := time.Since(start); took < 100*time.Millisecond || took > time.Second {
		t.Errorf("overload took %v, want about QueueTimeout", took)
	}
	if o.hits.Load() != 1 || p.Stats().Overloaded.Load() != 1 {
		t.Fatalf("hits = %d, Overloaded = %d; want 1, 1", o.hits.Load(), p.Stats().Overloaded.Load())
	}
	if got := p.Origins()[0].InFlight; got != 1 {
		t.Fatalf("origin InFlight = %d, want 1", got)
	}
	first.Body.Close()
	third, err := fetch(t, p, http.MethodGet, "/c", "")
	if err != nil {
		t.Fatalf("fetch after close: %v", err)
	}
	third.Body.Close()
	if n := p.Stats().InFlight.Load(); n != 0 {
		t.Fatalf("InFlight = %d, want 0", n)
	}
}

func TestConcurrencyCapWaiterGetsFreedSlot(t *testing.T) {
	p, _ := capped(t, 5*time.Second)
	first, err := fetch(t, p, http.MethodGet, "/a", "")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		resp, err := fetch(t, p, http.MethodGet, "/b", "")
		if err == nil {
			resp.Body.Close()
		}
		got <- err
	}()
	time.Sleep(50 * time.Millisecond)
	select {
	case err := <-got:
		t.Fatalf("second fetch did not wait for the slot: %v", err)
	default:
	}
	first.Body.Close()
	if err := <-got; err != nil {
		t.Fatalf("second fetch: %v", err)
	}
}

func TestSlotFreedAtEOF(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("hello")) })
	p := newTestPool(t, testUpstream(func(u *config.Upstream) { u.MaxConcurrency = 1 }), o.URL)
	resp, err := fetch(t, p, http.MethodGet, "/a", "")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, err := io.ReadAll(resp.Body); err != nil || string(b) != "hello" {
		t.Fatalf("body = %q, %v", b, err)
	}
	if n := p.Stats().InFlight.Load(); n != 0 {
		t.Fatalf("InFlight = %d after EOF, want 0", n)
	}
	head, err := p.Fetch(context.Background(), &http.Request{Method: http.MethodHead, URL: &url.URL{Path: "/a"}})
	if err != nil {
		t.Fatalf("HEAD with a nil Header: %v", err)
	}
	if n := p.Stats().InFlight.Load(); n != 0 {
		t.Fatalf("InFlight = %d after a bodiless HEAD, want 0", n)
	}
	head.Body.Close()
}
