package origin

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
)

// switchable answers the code stored in it (0 stalls until the client
// gives up), so a test can break and mend an origin.
type switchable struct{ code atomic.Int64 }

func (s *switchable) serve(w http.ResponseWriter, r *http.Request) {
	code := int(s.code.Load())
	if code == 0 {
		<-r.Context().Done()
		return
	}
	w.WriteHeader(code)
}

// breakerPool is one origin behind a breaker that opens after 3 failures
// and cools down for cooldown; no retries.
func breakerPool(t *testing.T, cooldown time.Duration, urls ...string) *Pool {
	up := testUpstream(func(u *config.Upstream) {
		u.BreakerFailures = 3
		u.BreakerCooldown = cooldown
		u.ResponseHeaderTimeout = 100 * time.Millisecond
	})
	up.Retries = retriesOf(0)
	return newTestPool(t, up, urls...)
}

// fetchN sends n GETs and closes what comes back.
func fetchN(t *testing.T, p *Pool, n int) {
	for range n {
		if resp, err := fetch(t, p, http.MethodGet, "/a", ""); err == nil {
			resp.Body.Close()
		}
	}
}

func TestBreakerOpens(t *testing.T) {
	tests := []struct {
		name     string
		code     int64
		wantOpen bool
	}{
		{"500s open it", 500, true},
		{"timeouts open it", 0, true},
		{"404s do not", 404, false},
		{"redirects do not", 302, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s switchable
			s.code.Store(tt.code)
			o := newOrigin(t, s.serve)
			p := breakerPool(t, time.Minute, o.URL)
			fetchN(t, p, 3)
			resp, err := fetch(t, p, http.MethodGet, "/a", "")
			if !tt.wantOpen {
				mustStatus(t, resp, err, int(tt.code))
				if got := p.Origins()[0].Breaker; got != BreakerClosed {
					t.Fatalf("breaker %v, want closed", got)
				}
				return
			}
			if !errors.Is(err, ErrBreakerOpen) {
				t.Fatalf("4th fetch err = %v, want ErrBreakerOpen", err)
			}
			if n := o.hits.Load(); n != 3 {
				t.Fatalf("origin hits = %d, want 3 (none once open)", n)
			}
			if got := p.Origins()[0]; got.Breaker != BreakerOpen || got.URL != o.URL {
				t.Fatalf("Origins()[0] = %+v, want %s open", got, o.URL)
			}
			if n := p.Stats().BreakerRejected.Load(); n != 1 {
				t.Fatalf("BreakerRejected = %d, want 1", n)
			}
		})
	}
}

func TestBreakerProbe(t *testing.T) {
	tests := []struct {
		name      string
		probe     int64
		wantState BreakerState
	}{
		{"success closes", 200, BreakerClosed},
		{"404 closes", 404, BreakerClosed},
		{"failure reopens", 503, BreakerOpen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s switchable
			s.code.Store(500)
			o := newOrigin(t, s.serve)
			const cooldown = 150 * time.Millisecond
			p := breakerPool(t, cooldown, o.URL)
			fetchN(t, p, 3)
			time.Sleep(cooldown + 50*time.Millisecond)
			if got := p.Origins()[0].Breaker; got != BreakerHalfOpen {
				t.Fatalf("after cooldown breaker %v, want half-open", got)
			}
			s.code.Store(tt.probe)
			resp, err := fetch(t, p, http.MethodGet, "/a", "")
			mustStatus(t, resp, err, int(tt.probe))
			if o.hits.Load() != 4 {
				t.Fatalf("origin hits = %d, want 4", o.hits.Load())
			}
			if got := p.Origins()[0].Breaker; got != tt.wantState {
				t.Fatalf("after probe breaker %v, want %v", got, tt.wantState)
			}
		})
	}
}

func TestBreakerHalfOpenLetsOneProbe(t *testing.T) {
	var s switchable
	s.code.Store(500)
	o := newOrigin(t, s.serve)
	const cooldown = 100 * time.Millisecond
	p := breakerPool(t, cooldown, o.URL)
	fetchN(t, p, 3)
	time.Sleep(cooldown + 50*time.Millisecond)
	s.code.Store(0) // the probe stalls until the header timeout
	probe := make(chan error, 1)
	go func() {
		_, err := fetch(t, p, http.MethodGet, "/a", "")
		probe <- err
	}()
	for o.hits.Load() < 4 {
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := fetch(t, p, http.MethodGet, "/a", ""); !errors.Is(err, ErrBreakerOpen) {
		t.Fatalf("fetch during the probe err = %v, want ErrBreakerOpen", err)
	}
	if err := <-probe; err == nil {
		t.Fatal("stalled probe succeeded")
	}
	if o.hits.Load() != 4 {
		t.Fatalf("origin hits = %d, want 4", o.hits.Load())
	}
}

func TestBreakerSkipsOpenOrigin(t *testing.T) {
	var s switchable
	s.code.Store(500)
	first := newOrigin(t, s.serve)
	second := newOrigin(t, status(http.StatusOK))
	p := breakerPool(t, time.Minute, first.URL, second.URL)
	fetchN(t, p, 3) // 500s are returned as is: no retry to the second
	for range 2 {
		resp, err := fetch(t, p, http.MethodGet, "/a", "")
		mustStatus(t, resp, err, http.StatusOK)
	}
	if first.hits.Load() != 3 || second.hits.Load() != 2 {
		t.Fatalf("hits = %d, %d; want 3, 2", first.hits.Load(), second.hits.Load())
	}
	states := p.Origins()
	if states[0].Breaker != BreakerOpen || states[1].Breaker != BreakerClosed {
		t.Fatalf("Origins() = %+v, want open, closed", states)
	}
}

func TestBreakerIgnoresOverload(t *testing.T) {
	p, o := capped(t, 20*time.Millisecond)
	p.origins[0].breaker = newBreaker("test", o.URL, testUpstream(func(u *config.Upstream) {
		u.BreakerFailures = 1
	}), p.logger)
	first, err := fetch(t, p, http.MethodGet, "/a", "")
	if err != nil {
		t.Fatal(err)
	}
	defer first.Body.Close()
	for range 3 {
		if _, err := fetch(t, p, http.MethodGet, "/b", ""); !errors.Is(err, ErrOverloaded) {
			t.Fatalf("err = %v, want ErrOverloaded", err)
		}
	}
	if got := p.Origins()[0].Breaker; got != BreakerClosed {
		t.Fatalf("breaker %v after local overload, want closed", got)
	}
}

// failingBody is a request body that sends some bytes, then fails as a
// client's malformed chunked body or a body over its size limit does.
type failingBody struct {
	sent bool
	err  error
}

func (b *failingBody) Read(p []byte) (int, error) {
	if !b.sent {
		b.sent = true
		return copy(p, "part of a body"), nil
	}
	return 0, b.err
}

// TestBreakerIgnoresClientBodyErrors: a request whose body fails to read
// is the client's fault (issue 11, hole 2): many of them leave the breaker
// closed, come back as ErrClientBody with the read error, and the next
// request still reaches the origin.
func TestBreakerIgnoresClientBodyErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{"malformed chunked body", errors.New("invalid byte in chunk length")},
		{"body too large", &http.MaxBytesError{Limit: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrigin(t, status(http.StatusOK))
			p := breakerPool(t, time.Minute, o.URL)
			for range 6 {
				req, _ := http.NewRequest(http.MethodPost, "/upload", &failingBody{err: tt.err})
				_, err := p.Fetch(t.Context(), req)
				if !errors.Is(err, ErrClientBody) || !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want ErrClientBody wrapping %v", err, tt.err)
				}
			}
			if got := p.Origins()[0].Breaker; got != BreakerClosed {
				t.Fatalf("breaker %v after client body errors, want closed", got)
			}
			if n := p.Stats().ClientBodyErrors.Load(); n != 6 {
				t.Fatalf("ClientBodyErrors = %d, want 6", n)
			}
			if n := p.Stats().Errors.Load(); n != 0 {
				t.Fatalf("Errors = %d, want 0 (not the origin's)", n)
			}
			resp, err := fetch(t, p, http.MethodGet, "/a", "")
			mustStatus(t, resp, err, http.StatusOK)
		})
	}
}

// TestBreakerIgnoresUnknownLaneFailures: an attacker flooding made-up names
// until the origin fails on them must not open the breaker for the
// viewers' (known) fetches; the same failures in the known lane do.
func TestBreakerIgnoresUnknownLaneFailures(t *testing.T) {
	var s switchable
	s.code.Store(503)
	o := newOrigin(t, s.serve)
	p := breakerPool(t, time.Minute, o.URL)
	get := func(l Lane) (*http.Response, error) {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "/x1.ts", nil)
		return p.Fetch(WithLane(context.Background(), l), req)
	}
	for range 10 {
		if resp, err := get(LaneUnknown); err == nil {
			resp.Body.Close()
		}
	}
	if got := p.Origins()[0].Breaker; got != BreakerClosed {
		t.Fatalf("ten unknown-lane 503s left the breaker %v, want closed", got)
	}
	for range 3 {
		if resp, err := get(LaneKnown); err == nil {
			resp.Body.Close()
		}
	}
	if got := p.Origins()[0].Breaker; got != BreakerOpen {
		t.Fatalf("three known-lane 503s left the breaker %v, want open", got)
	}
}
