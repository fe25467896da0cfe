package stream

import (
	"context"
	"sync/atomic"
)

// prefetchQueue bounds the playlists waiting to be fetched by the edge
// itself; more are dropped (asked again a second later).
const prefetchQueue = 64

// Prefetcher fetches, in the background and one at a time, the playlists
// a Catalog says are stale, through the site's cache (so the catalog
// learns them as it learns any playlist, and the fetch is shared with any
// player asking at the same moment). Ask never blocks.
type Prefetcher struct {
	fetch func(ctx context.Context, path string)
	queue chan string
	// Asked counts the playlists queued; Dropped those the full queue
	// refused.
	Asked, Dropped atomic.Int64
}

// NewPrefetcher returns a prefetcher calling fetch for each playlist path.
func NewPrefetcher(fetch func(ctx context.Context, path string)) *Prefetcher {
	return &Prefetcher{fetch: fetch, queue: make(chan string, prefetchQueue)}
}

// Ask queues path unless the queue is full.
func (p *Prefetcher) Ask(path string) {
	select {
	case p.queue <- path:
		p.Asked.Add(1)
	default:
		p.Dropped.Add(1)
	}
}

// Run fetches what is asked until ctx is done.
func (p *Prefetcher) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case path := <-p.queue:
			p.fetch(ctx, path)
		}
	}
}
