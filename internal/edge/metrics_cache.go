package edge

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rempart/rempart/internal/cache"
)

var (
	descCacheObjects = prometheus.NewDesc("rempart_cache_objects", "Objects in the cache.", nil, nil)
	descCacheBytes   = prometheus.NewDesc("rempart_cache_bytes", "Bytes held by the cache (bodies, keys, headers).", nil, nil)
)

// cacheCounters are the cache's counters exported as rempart_cache_<name>_total.
var cacheCounters = []struct {
	name, help string
	get        func(*cache.Stats) *atomic.Uint64
	desc       *prometheus.Desc
}{
	{"hits", "Requests served from a fresh cached copy.", func(s *cache.Stats) *atomic.Uint64 { return &s.Hits }, nil},
	{"inserts", "Objects written to the cache.", func(s *cache.Stats) *atomic.Uint64 { return &s.Inserts }, nil},
	{"evictions", "Objects evicted to stay under cache.max_bytes.", func(s *cache.Stats) *atomic.Uint64 { return &s.Evictions }, nil},
	{"expirations", "Objects dropped at the end of their last stale window.", func(s *cache.Stats) *atomic.Uint64 { return &s.Expirations }, nil},
	{"origin_fetches", "Shared origin fetches started (misses and refreshes, one per object however many waiters).", func(s *cache.Stats) *atomic.Uint64 { return &s.OriginFetches }, nil},
	{"revalidations", "Shared fetches answered 304 that refreshed a cached copy.", func(s *cache.Stats) *atomic.Uint64 { return &s.Revalidations }, nil},
	{"origin_errors", "Shared fetches that failed (network error, timeout, 5xx).", func(s *cache.Stats) *atomic.Uint64 { return &s.OriginErrors }, nil},
	{"coalesced", "Requests that joined another request's origin fetch.", func(s *cache.Stats) *atomic.Uint64 { return &s.Coalesced }, nil},
	{"stale_served", "Responses served from a stale copy.", func(s *cache.Stats) *atomic.Uint64 { return &s.StaleServed }, nil},
	{"background_refreshes", "stale-while-revalidate refreshes started.", func(s *cache.Stats) *atomic.Uint64 { return &s.BackgroundRefreshes }, nil},
	{"passes", "Requests passed to the origin uncached.", func(s *cache.Stats) *atomic.Uint64 { return &s.Passes }, nil},
	{"hit_for_pass", "Passes decided because the key's last answer could not be shared.", func(s *cache.Stats) *atomic.Uint64 { return &s.HitForPass }, nil},
	{"not_stored", "Origin answers not stored (private, no-store, Set-Cookie, Vary, no freshness, too big).", func(s *cache.Stats) *atomic.Uint64 { return &s.NotStored }, nil},
	{"wait_timeouts", "Requests that waited cache.wait_timeout on a fetch without getting headers.", func(s *cache.Stats) *atomic.Uint64 { return &s.WaitTimeouts }, nil},
	{"aborted", "Responses cut short because the origin transfer failed mid-body.", func(s *cache.Stats) *atomic.Uint64 { return &s.Aborted }, nil},
	{"playlist_refresh_failures", "Failed origin fetches of live media playlists.", func(s *cache.Stats) *atomic.Uint64 { return &s.PlaylistRefreshFailures }, nil},
	{"playlist_stale_served", "Live media playlists served stale because the origin failed or was slow.", func(s *cache.Stats) *atomic.Uint64 { return &s.PlaylistStaleServed }, nil},
	{"playlist_too_old", "Live media playlist requests refused because the last copy was past its bound (frozen stream).", func(s *cache.Stats) *atomic.Uint64 { return &s.PlaylistTooOld }, nil},
	{"unknown_refused", "Segment misses for names no stream lists answered 404 by the edge (the origin had none of them lately).", func(s *cache.Stats) *atomic.Uint64 { return &s.UnknownRefused }, nil},
	{"unknown_busy", "Segment misses for names no stream lists answered 503 while the unknown-name gate awaited the origin's answers to the first ones.", func(s *cache.Stats) *atomic.Uint64 { return &s.UnknownBusy }, nil},
}

func init() {
	for i := range cacheCounters {
		c := &cacheCounters[i]
		c.desc = prometheus.NewDesc("rempart_cache_"+c.name+"_total", c.help, nil, nil)
	}
}

func describeCache(ch chan<- *prometheus.Desc) {
	ch <- descCacheObjects
	ch <- descCacheBytes
	for _, c := range cacheCounters {
		ch <- c.desc
	}
}

func collectCache(ch chan<- prometheus.Metric, s *cache.Stats) {
	ch <- gauge(descCacheObjects, float64(s.Objects()))
	ch <- gauge(descCacheBytes, float64(s.Bytes()))
	for _, c := range cacheCounters {
		ch <- counter(c.desc, float64(c.get(s).Load()))
	}
}
