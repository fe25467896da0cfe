package origin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rempart/rempart/internal/urlpath"
)

// maxDrain is how much of a retried 5xx body is read so that its
// connection can be reused; a longer body closes the connection instead.
const maxDrain = 64 << 10

// Fetch sends req to the first origin whose breaker allows it and returns
// the response; req.URL holds only the path and query. GET and HEAD without
// a body are retried up to Upstream.Retries times, on the next origin, after
// a connection error, a timeout before the headers, or a 502/503/504; other
// requests are sent once. Any other status, 3xx included, is returned as is.
// The caller must close the response body: the origin slot is held until it
// is closed or read to the end, and reading it ends at Upstream.FetchTimeout.
func (p *Pool) Fetch(ctx context.Context, req *http.Request) (*http.Response, error) {
	if err := checkPath(req.URL); err != nil {
		return nil, err
	}
	retries := 0
	if idempotent(req) {
		retries = p.retries
	}
	next := 0
	var lastErr error
	for attempt := 0; ; attempt++ {
		u, done, err := p.pick(next)
		if err != nil {
			return nil, p.refuse(req, lastErr)
		}
		next = u.index + 1
		resp, err := p.attempt(ctx, u, done, req)
		if attempt >= retries || !retryable(ctx, resp, err) {
			return resp, err
		}
		if resp != nil {
			if !p.anyAvailable(next) {
				return resp, nil // better the origin's 5xx than nothing
			}
			drain(resp.Body)
			err = fmt.Errorf("fetch %s from %s: status %d", req.URL.Path, u.url, resp.StatusCode)
		}
		lastErr = err
		p.stats.Retries.Add(1)
		if err := sleep(ctx, p.backoff(attempt+1)); err != nil {
			return nil, fmt.Errorf("wait to retry %s: %w (after %w)", req.URL.Path, err, lastErr)
		}
	}
}

// checkPath refuses a path that urlpath.Normalize refuses: joined to an
// origin's base path, "/../x.ts" would reach outside it, and an encoded
// slash may become one at the origin. guard.Hygiene refuses such requests
// at the door; this holds for every other caller too.
func checkPath(u *url.URL) error {
	if _, err := urlpath.Normalize("/" + strings.TrimPrefix(u.EscapedPath(), "/")); err != nil {
		return fmt.Errorf("fetch %q: %w: %w", u.EscapedPath(), ErrBadPath, err)
	}
	return nil
}

// pick returns the first origin from index from on (wrapping around) whose
// breaker lets a request through, with the breaker's report callback.
func (p *Pool) pick(from int) (*upstream, func(error), error) {
	n := len(p.origins)
	for i := range n {
		u := p.origins[(from+i)%n]
		if done, err := u.breaker.Allow(); err == nil {
			return u, done, nil
		}
	}
	return nil, nil, ErrBreakerOpen
}

// anyAvailable reports whether some breaker would let a retry through.
func (p *Pool) anyAvailable(from int) bool {
	n := len(p.origins)
	for i := range n {
		if p.origins[(from+i)%n].state() != BreakerOpen {
			return true
		}
	}
	return false
}

// refuse is the error when no breaker lets a request through; lastErr is
// the previous attempt's failure, if this was a retry.
func (p *Pool) refuse(req *http.Request, lastErr error) error {
	p.stats.BreakerRejected.Add(1)
	if lastErr != nil {
		return fmt.Errorf("retry %s: %w (after %w)", req.URL.Path, ErrBreakerOpen, lastErr)
	}
	return fmt.Errorf("fetch %s: %w", req.URL.Path, ErrBreakerOpen)
}

// attempt sends req once to u; done reports the outcome to u's breaker and
// is called exactly once, whatever happens.
func (p *Pool) attempt(ctx context.Context, u *upstream, done func(error), req *http.Request) (*http.Response, error) {
	release, held, err := u.acquire(ctx, LaneOf(ctx), p.up.QueueTimeout, &p.stats)
	if err != nil {
		done(errExcluded)
		p.stats.countRefusal(err)
		return nil, fmt.Errorf("fetch %s: %w", req.URL.Path, err)
	}
	actx, cancel := context.WithTimeout(ctx, p.up.FetchTimeout)
	out := u.outgoing(actx, req)
	sent := watchBody(out)
	start := p.now()
	resp, err := u.transport.RoundTrip(out)
	end := p.now()
	if err != nil {
		cancel()
		release()
		if bodyErr := sent.failed(); bodyErr != nil { // the client's fault
			done(errExcluded)
			p.stats.ClientBodyErrors.Add(1)
			return nil, fmt.Errorf("fetch %s from %s: %w: %w", req.URL.Path, u.url, ErrClientBody, bodyErr)
		}
		done(blame(ctx, failure(ctx)))
		u.laneOutcome(ctx, failure(ctx))
		u.observeFailure(ctx, end, held, err, &p.stats)
		p.stats.Errors.Add(1)
		return nil, fmt.Errorf("fetch %s from %s: %w", req.URL.Path, u.url, err)
	}
	p.stats.Latency.Observe(end.Sub(start))
	p.stats.countStatus(resp.StatusCode)
	u.observe(end, end.Sub(start), held, &p.stats)
	done(blame(ctx, verdict(resp.StatusCode)))
	u.laneOutcome(ctx, verdict(resp.StatusCode))
	resp.Body = newBody(ctx, actx, resp.Body, u.url, func() { cancel(); release() })
	return resp, nil
}

// failure is the breaker outcome of an attempt that got no response: the
// origin's fault unless the caller went away first.
func failure(ctx context.Context) error {
	if ctx.Err() != nil {
		return errExcluded
	}
	return errOriginFailed
}

// laneOutcome tells u's gate how an unknown-lane fetch fared (outcome
// from failure or verdict); a caller that went away tells nothing.
func (u *upstream) laneOutcome(ctx context.Context, outcome error) {
	if LaneOf(ctx) == LaneUnknown && !errors.Is(outcome, errExcluded) {
		u.slots.unknownOutcome(outcome != nil)
	}
}

// blame keeps the failures of unknown-lane fetches out of the breaker: an
// attacker who floods made-up names until the origin chokes on them must
// not open the breaker for the viewers' segments. Their successes count.
func blame(ctx context.Context, outcome error) error {
	if outcome != nil && LaneOf(ctx) == LaneUnknown {
		return errExcluded
	}
	return outcome
}

// verdict is the breaker outcome of a status: 5xx is a failure, the rest
// (4xx included: the origin is answering) a success.
func verdict(code int) error {
	if code >= 500 {
		return errOriginFailed
	}
	return nil
}

// idempotent reports whether req may be sent twice: GET or HEAD, no body.
func idempotent(req *http.Request) bool {
	switch req.Method {
	case "", http.MethodGet, http.MethodHead:
		return req.Body == nil || req.Body == http.NoBody
	}
	return false
}

// retryable reports whether an attempt's outcome is worth another try.
// Overload is not: waiting again would only double the queue time; nor is
// a full unknown lane, which refuses at once on purpose.
func retryable(ctx context.Context, resp *http.Response, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	if err != nil {
		return !errors.Is(err, ErrOverloaded) && !errors.Is(err, ErrLaneFull)
	}
	switch resp.StatusCode {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// drain reads a little of body, so the connection can be reused, and closes it.
func drain(body io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, body, maxDrain)
	_ = body.Close()
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
