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
