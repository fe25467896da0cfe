package synth

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
)

// errOverloaded is returned by gate.enter when every slot is busy and the
// queue is full.
var errOverloaded = errors.New("synth: origin overloaded")

// gate is the origin's capacity (Options.MaxConcurrent, MaxQueue): a
// request holds one slot while it is served, waits in a bounded queue when
// none is free, and is refused when the queue is full too, as a weak
// origin's worker pool and listen backlog would.
type gate struct {
	slots    chan struct{} // a token per request being served
	queued   atomic.Int64  // requests waiting for a slot
	maxQueue int64
}

// newGate returns the gate of opts, nil when the origin has no limit.
func newGate(opts Options) *gate {
	if opts.MaxConcurrent <= 0 {
		return nil
	}
	return &gate{slots: make(chan struct{}, opts.MaxConcurrent), maxQueue: int64(opts.MaxQueue)}
}

// enter takes a slot, waiting in the queue if there is room; it returns
// errOverloaded at once when there is none, or ctx's error when the client
// left while it waited. A nil error must be followed by leave.
func (g *gate) enter(ctx context.Context) error {
	select {
	case g.slots <- struct{}{}:
		return nil
	default:
	}
	if g.queued.Add(1) > g.maxQueue {
		g.queued.Add(-1)
		return errOverloaded
	}
	defer g.queued.Add(-1)
	select {
	case g.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// leave frees the slot taken by enter.
func (g *gate) leave() { <-g.slots }

// refuseOverloaded answers a request the gate refused: a tiny 503 that
// tells clients and caches to come back in a second and store nothing.
func refuseOverloaded(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Retry-After", "1")
	h.Set("Cache-Control", "no-store")
	http.Error(w, "origin overloaded", http.StatusServiceUnavailable)
}
