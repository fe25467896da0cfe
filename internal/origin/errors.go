package origin

import "errors"

// Errors a Pool returns; callers test them with errors.Is. Connection errors
// and timeouts before the response headers come back wrapped as they are
// (net.Error, context.DeadlineExceeded) with the origin named.
var (
	// ErrBreakerOpen: every origin's circuit breaker refuses, so no request
	// was sent. The caller should serve stale or fail fast.
	ErrBreakerOpen = errors.New("origin: all circuit breakers open")
	// ErrOverloaded: no request slot for the origin freed up within
	// Upstream.QueueTimeout. Nothing was sent.
	ErrOverloaded = errors.New("origin: too many requests in flight")
	// ErrLaneFull: the fetch was in LaneUnknown and that lane's queue was
	// full. Nothing was sent; the caller should answer 503 with
	// Retry-After.
	ErrLaneFull = errors.New("origin: unknown-object lane full")
	// ErrFetchTimeout: reading the response body ran past
	// Upstream.FetchTimeout.
	ErrFetchTimeout = errors.New("origin: fetch timeout")
	// ErrClientBody: reading the caller's request body failed (a malformed
	// chunked body, a client gone mid-upload, a body over a size limit)
	// while it was being sent. The fault is the client's: the origin's
	// breaker and limiter do not count it, and the client should get a 4xx.
	// The read error is wrapped too (errors.As finds *http.MaxBytesError).
	ErrClientBody = errors.New("origin: reading the client's request body failed")
	// ErrBadPath: the request path climbs above the root, or holds an
	// encoded separator or control character (see urlpath.Normalize).
	// Nothing was sent; the urlpath error is wrapped too.
	ErrBadPath = errors.New("origin: request path refused")
	// ErrNoOrigins: NewPool was given no origin.
	ErrNoOrigins = errors.New("origin: no origins configured")
	// ErrBadOrigin: an origin URL is not an absolute http(s) base URL.
	ErrBadOrigin = errors.New("origin: bad origin URL")
	// ErrBadUpstream: an Upstream setting is out of range (defaults were
	// not filled).
	ErrBadUpstream = errors.New("origin: bad upstream setting")
)

// Outcomes reported to an origin's breaker. errExcluded marks attempts that
// say nothing about the origin's health (the caller went away, or no local
// slot was free): they count neither way and free a half-open probe.
var (
	errOriginFailed = errors.New("origin failed")
	errExcluded     = errors.New("outcome excluded")
)
