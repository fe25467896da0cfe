package origin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/rempart/rempart/internal/config"
)

// Transport settings with no configuration key.
const (
	idleConnTimeout        = 90 * time.Second
	maxResponseHeaderBytes = 64 << 10
	tcpKeepAlive           = 30 * time.Second
)

// upstream is one origin: its connections, its slots and its breaker.
type upstream struct {
	index     int
	url       string // as configured, for logs and metrics
	base      *url.URL
	transport *http.Transport
	breaker   *gobreaker.TwoStepCircuitBreaker[struct{}]
	slots     *gate
	limiter   *limiter // nil: the gate stays at MaxConcurrency
	inFlight  atomic.Int64
}

// newUpstream builds the origin at index i from its checked base URL.
func newUpstream(i int, raw string, base *url.URL, up config.Upstream, site string, logger *slog.Logger) *upstream {
	u := &upstream{
		index:     i,
		url:       raw,
		base:      base,
		transport: newTransport(base, up),
		breaker:   newBreaker(site, raw, up, logger),
		slots:     newGate(up.MaxConcurrency),
	}
	u.slots.share = up.UnknownShare
	if up.Adaptive.Enabled {
		u.limiter = newLimiter(up.Adaptive, up.MaxConcurrency, u.slots)
	}
	return u
}

// newTransport returns a transport that only ever dials what it is asked
// to: no proxy from the environment (HTTP_PROXY would send traffic to a
// host nobody configured), no redirects (a Transport never follows them),
// no transparent gzip (the cache stores what the origin sent).
func newTransport(base *url.URL, up config.Upstream) *http.Transport {
	dialer := &net.Dialer{Timeout: up.ConnectTimeout, KeepAlive: tcpKeepAlive}
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		TLSHandshakeTimeout:    up.ConnectTimeout,
		ResponseHeaderTimeout:  up.ResponseHeaderTimeout,
		MaxIdleConns:           up.MaxIdleConns,
		MaxIdleConnsPerHost:    up.MaxIdleConns,
		DisableKeepAlives:      up.MaxIdleConns == 0,
		IdleConnTimeout:        idleConnTimeout,
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
		DisableCompression:     true,
		ForceAttemptHTTP2:      base.Scheme == "https",
		ExpectContinueTimeout:  time.Second,
	}
}

// newBreaker opens after BreakerFailures consecutive failures, refuses for
// BreakerCooldown, then lets exactly one probe through.
func newBreaker(site, raw string, up config.Upstream, logger *slog.Logger) *gobreaker.TwoStepCircuitBreaker[struct{}] {
	failures := uint32(up.BreakerFailures)
	return gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        raw,
		MaxRequests: 1,
		Timeout:     up.BreakerCooldown,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			level := slog.LevelWarn
			if to == gobreaker.StateClosed {
				level = slog.LevelInfo
			}
			logger.Log(context.Background(), level, "origin breaker changed",
				"site", site, "origin", raw, "from", from.String(), "to", to.String())
		},
		IsSuccessful: func(err error) bool { return err == nil },
		IsExcluded:   func(err error) bool { return err == errExcluded },
	})
}

// state reads the breaker state; it also moves an expired open breaker to
// half-open, as gobreaker does on every read.
func (u *upstream) state() BreakerState {
	switch u.breaker.State() {
	case gobreaker.StateHalfOpen:
		return BreakerHalfOpen
	case gobreaker.StateOpen:
		return BreakerOpen
	}
	return BreakerClosed
}

// acquire takes one of the origin's slots in lane, waiting at most wait. It
// returns a release func safe to call more than once, and the slots held
// once it got in (its own included).
func (u *upstream) acquire(ctx context.Context, lane Lane, wait time.Duration, stats *Stats) (func(), int, error) {
	held, err := u.slots.acquire(ctx, lane, wait)
	if err != nil {
		return nil, 0, fmt.Errorf("wait for slot on %s: %w", u.url, err)
	}
	u.inFlight.Add(1)
	stats.InFlight.Add(1)
	var once sync.Once
	return func() {
		once.Do(func() {
			u.inFlight.Add(-1)
			stats.InFlight.Add(-1)
			u.slots.release(lane)
		})
	}, held, nil
}

// observe feeds a round trip that got its headers to the limiter, if any:
// it ended at end, took rtt, and was sent with held slots in use. The
// limit's changes are counted in stats.
func (u *upstream) observe(end time.Time, rtt time.Duration, held int, stats *Stats) {
	if u.limiter != nil {
		u.limiter.observe(end, rtt, max(held, int(u.inFlight.Load())), stats)
	}
}

// observeFailure feeds a round trip that got no response to the limiter:
// a timeout while the caller still waited says the origin is overloaded;
// a refused connection or a caller gone says nothing about its load.
func (u *upstream) observeFailure(ctx context.Context, end time.Time, held int, err error, stats *Stats) {
	if u.limiter == nil || ctx.Err() != nil {
		return
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		u.limiter.timeout(end, max(held, int(u.inFlight.Load())), stats)
	}
}

// limit returns the origin's concurrency limit now and its no-load latency
// (zero without an adaptive limiter or before a measure).
func (u *upstream) limit() (int64, time.Duration) {
	if u.limiter == nil {
		return int64(u.slots.size()), 0
	}
	return u.limiter.current.Load(), time.Duration(u.limiter.noLoadRTT.Load())
}

// outgoing returns a copy of req aimed at this origin, under ctx.
func (u *upstream) outgoing(ctx context.Context, req *http.Request) *http.Request {
	out := req.Clone(ctx)
	if out.Header == nil {
		out.Header = make(http.Header) // the transport refuses a nil one
	}
	target := *u.base
	target.Path, target.RawPath = joinPath(u.base, req.URL)
	target.RawQuery = req.URL.RawQuery
	target.ForceQuery = false
	target.Fragment, target.RawFragment = "", ""
	out.URL = &target
	out.Host = u.base.Host
	out.RequestURI = ""
	return out
}

// joinPath prepends the base path to the request path with exactly one
// slash between them, keeping the escapes of both (as httputil does; the
// request path holds no %2F: Fetch refuses it).
func joinPath(base, req *url.URL) (path, rawpath string) {
	if base.RawPath == "" && req.RawPath == "" {
		return joinSlash(base.Path, req.Path), ""
	}
	escaped := joinSlash(base.EscapedPath(), req.EscapedPath())
	return joinSlash(base.Path, req.Path), escaped
}

// joinSlash joins a and b with a single slash; b gets a leading slash.
func joinSlash(a, b string) string {
	a = strings.TrimSuffix(a, "/")
	if !strings.HasPrefix(b, "/") {
		b = "/" + b
	}
	return a + b
}
