package origin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// body wraps an origin response body: the first of Close, EOF or a read
// error ends the attempt (cancels its context, frees its slot), so a slot
// is never held longer than the body is in use.
type body struct {
	rc     io.ReadCloser
	caller context.Context // the caller's context
	fetch  context.Context // the attempt's, bounded by FetchTimeout
	origin string
	once   sync.Once
	end    func()
}

// newBody wraps rc; end runs once when the body is finished. An empty body
// ends the attempt at once.
func newBody(caller, fetch context.Context, rc io.ReadCloser, origin string, end func()) io.ReadCloser {
	if rc == http.NoBody {
		end()
		return rc
	}
	return &body{rc: rc, caller: caller, fetch: fetch, origin: origin, end: end}
}

// Read reads from the origin; an error names the origin, and
// ErrFetchTimeout when the attempt ran out of time.
func (b *body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err == nil {
		return n, nil
	}
	if err != io.EOF {
		err = b.wrap(err)
	}
	b.finish()
	return n, err
}

// Close closes the origin body and frees the slot.
func (b *body) Close() error {
	err := b.rc.Close()
	b.finish()
	return err
}

func (b *body) finish() { b.once.Do(b.end) }

// wrap checks the attempt's context before the call ends it.
func (b *body) wrap(err error) error {
	if b.caller.Err() == nil && errors.Is(b.fetch.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("read body from %s: %w: %w", b.origin, ErrFetchTimeout, err)
	}
	return fmt.Errorf("read body from %s: %w", b.origin, err)
}

// clientBody wraps the caller's request body on its way to the origin and
// keeps the first read error. The transport reports a failed body read as
// a failed round trip, which the breaker would blame on the origin: six
// malformed chunked POSTs opened it (issue 11). The transport reads the
// body in its own goroutine, possibly still after RoundTrip returned.
type clientBody struct {
	rc io.ReadCloser

	mu  sync.Mutex // guards err
	err error
}

// watchBody replaces out's body, if it has one, with a clientBody; the nil
// it returns otherwise is safe to call failed on.
func watchBody(out *http.Request) *clientBody {
	if out.Body == nil || out.Body == http.NoBody {
		return nil
	}
	cb := &clientBody{rc: out.Body}
	out.Body = cb
	return cb
}

// Read reads the client's body, keeping the first error other than EOF.
func (c *clientBody) Read(p []byte) (int, error) {
	n, err := c.rc.Read(p)
	if err != nil && err != io.EOF {
		c.mu.Lock()
		if c.err == nil {
			c.err = err
		}
		c.mu.Unlock()
	}
	return n, err
}

// Close closes the client's body.
func (c *clientBody) Close() error { return c.rc.Close() }

// failed returns the first error reading the body, nil if none (or c nil).
func (c *clientBody) failed() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}
