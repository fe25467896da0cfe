package origin

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
)

func TestJitteredBackoff(t *testing.T) {
	tests := []struct {
		retry    int
		min, max time.Duration
	}{
		{1, 10 * time.Millisecond, 20 * time.Millisecond},
		{2, 20 * time.Millisecond, 40 * time.Millisecond},
		{4, 80 * time.Millisecond, 160 * time.Millisecond},
		{9, 100 * time.Millisecond, 200 * time.Millisecond},
		{0, 100 * time.Millisecond, 200 * time.Millisecond},
	}
	for _, tt := range tests {
		for range 50 {
			if d := jitteredBackoff(tt.retry); d < tt.min || d >= tt.max {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v)", tt.retry, d, tt.min, tt.max)
			}
		}
	}
}

func TestBackoffBoundedByContext(t *testing.T) {
	o := newOrigin(t, status(http.StatusServiceUnavailable))
	p := newTestPool(t, testUpstream(nil), o.URL)
	p.backoff = func(int) time.Duration { return time.Minute }
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "/a", nil)
	start := time.Now()
	_, err := p.Fetch(ctx, req)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Fatalf("err = %v after %v, want DeadlineExceeded soon", err, time.Since(start))
	}
	if o.hits.Load() != 1 {
		t.Fatalf("origin hits = %d, want 1", o.hits.Load())
	}
}

func TestRetryReturns5xxWhenNoOriginLeft(t *testing.T) {
	o := newOrigin(t, status(http.StatusBadGateway))
	up := testUpstream(func(u *config.Upstream) { u.BreakerFailures = 1 })
	p := newTestPool(t, up, o.URL)
	resp, err := fetch(t, p, http.MethodGet, "/a", "")
	mustStatus(t, resp, err, http.StatusBadGateway)
	if o.hits.Load() != 1 || p.Stats().Retries.Load() != 0 {
		t.Fatalf("hits = %d, Retries = %d; want 1, 0", o.hits.Load(), p.Stats().Retries.Load())
	}
}

func TestCallerCancelDoesNotTripBreaker(t *testing.T) {
	o := newOrigin(t, stall)
	up := testUpstream(func(u *config.Upstream) { u.BreakerFailures = 1 })
	p := newTestPool(t, up, o.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "/a", nil)
	if _, err := p.Fetch(ctx, req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	if got := p.Origins()[0].Breaker; got != BreakerClosed {
		t.Fatalf("breaker %v after the caller gave up, want closed", got)
	}
	if n := p.Stats().Retries.Load(); n != 0 {
		t.Fatalf("Retries = %d after the caller gave up, want 0", n)
	}
}

func TestBreakerChangeLogged(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	o := newOrigin(t, status(http.StatusInternalServerError))
	up := testUpstream(func(u *config.Upstream) { u.BreakerFailures = 2 })
	p, err := NewPool("live", []config.Origin{{URL: o.URL}}, up, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	fetchN(t, p, 4)
	log := buf.String()
	if strings.Count(log, "origin breaker changed") != 1 {
		t.Fatalf("log = %q, want one state change", log)
	}
	for _, want := range []string{"site=live", "origin=" + o.URL, "from=closed", "to=open"} {
		if !strings.Contains(log, want) {
			t.Errorf("log = %q, want %q", log, want)
		}
	}
}
