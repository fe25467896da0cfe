package link

import (
	"context"
	"io"
	"time"
)

// Reader paces the reads of one io.Reader through a Link. A model keeps
// one per connection and points it at each response body with Reset, so
// that pacing allocates nothing per read. It is not safe for concurrent
// use.
type Reader struct {
	l     *Link
	now   func() time.Time
	ctx   context.Context // of the exchange being read; set by Reset
	r     io.Reader
	timer *time.Timer // reused across waits; nil until the first
}

// NewReader returns a reader paced by l, reading the clock with now (nil:
// time.Now). It returns nil when l is nil: no link, nothing to pace.
func (l *Link) NewReader(now func() time.Time) *Reader {
	if l == nil {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	return &Reader{l: l, now: now}
}

// Reset makes pr read r for the exchange of ctx: a wait for the link ends
// early, with ctx's error, when ctx is done. (A Reader carries its context
// because io.Reader's Read has no place for one.)
func (pr *Reader) Reset(ctx context.Context, r io.Reader) {
	if ctx == nil {
		ctx = context.Background()
	}
	pr.ctx, pr.r = ctx, r
}

// Read reads at most MaxChunk bytes (Reset must have been called), then waits until the link has
// carried them. The bytes are returned even when the wait is cut short:
// they were read, and the caller learns of the end from the error.
func (pr *Reader) Read(p []byte) (int, error) {
	if len(p) > MaxChunk {
		p = p[:MaxChunk]
	}
	n, err := pr.r.Read(p)
	if n > 0 {
		if werr := pr.wait(pr.l.Reserve(pr.now(), n)); werr != nil {
			return n, werr
		}
	}
	return n, err
}

// wait sleeps d, unless it is too short to be worth a timer or ctx ends.
func (pr *Reader) wait(d time.Duration) error {
	if d < minSleep {
		return nil
	}
	pr.l.Stats.Waits.Add(1)
	pr.l.Stats.Waited.Add(int64(d))
	if pr.timer == nil {
		pr.timer = time.NewTimer(d)
	} else {
		pr.timer.Reset(d) // Go ≥ 1.23: no stale tick after Stop
	}
	select {
	case <-pr.timer.C:
		return nil
	case <-pr.ctx.Done():
		pr.timer.Stop()
		return context.Cause(pr.ctx)
	}
}
