package origin_test

import (
	"github.com/rempart/rempart/internal/cache"
	"github.com/rempart/rempart/internal/origin"
)

// The cache fetches through a Pool.
var _ cache.Fetcher = (*origin.Pool)(nil)
