// Package cache is the cache stage: a byte-bounded object store shared by all
// sites, request coalescing (one origin fetch per object, streamed to every
// waiter as it arrives), freshness and stale rules per route class, and cache
// keys normalized per class.
package cache

import (
	"context"
	"net/http"
)

// Fetcher gets objects from a site's origins; origin.Pool implements it.
// req.URL holds only the path and query: the fetcher picks the origin.
// The caller closes the response body.
type Fetcher interface {
	Fetch(ctx context.Context, req *http.Request) (*http.Response, error)
}
