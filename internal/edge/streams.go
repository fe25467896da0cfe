package edge

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rempart/rempart/internal/cache"
	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/stream"
	"github.com/rempart/rempart/internal/telemetry"
)

// streams is what the edge knows of its sites' live streams: one catalog
// per site, and the viewers known by what they do. Like the defences it
// survives reloads: a reload must not forget which segments exist.
type streams struct {
	now      func() time.Time
	viewers  *stream.Viewers
	prefetch *stream.Prefetcher // the edge's own playlist fetches, every site's

	mu       sync.Mutex
	catalogs map[string]*stream.Catalog // site name → its catalog
	caches   map[string]*cache.Handler  // site name → its cache stage now
}

func newStreams(now func() time.Time) *streams {
	s := &streams{now: now, viewers: stream.NewViewers(0), catalogs: make(map[string]*stream.Catalog),
		caches: make(map[string]*cache.Handler)}
	s.prefetch = stream.NewPrefetcher(s.fetch)
	return s
}

// fetch asks a site's cache for a playlist, as a player would but with no
// client: the cache coalesces it with players' requests and teaches the
// catalog what it lists. site and path come joined by a newline.
func (s *streams) fetch(ctx context.Context, sitePath string) {
	site, path, _ := strings.Cut(sitePath, "\n")
	s.mu.Lock()
	h := s.caches[site]
	s.mu.Unlock()
	if h == nil {
		return
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
	if err != nil {
		return
	}
	r.URL.Path = path
	tw := telemetry.NewWriter(nowhere{}, s.now())
	defer tw.Release()
	tw.Rec.Site, tw.Rec.Class = site, telemetry.ClassMedia
	h.ServeHTTP(tw, r)
}

// nowhere is a response writer that keeps nothing.
type nowhere struct{}

func (nowhere) Header() http.Header         { return http.Header{} }
func (nowhere) Write(p []byte) (int, error) { return len(p), nil }
func (nowhere) WriteHeader(int)             {}

// catalog returns site's catalog, made on first use with keep; a reload
// that changes keep_removed starts a fresh one.
func (s *streams) catalog(site string, keep time.Duration) *stream.Catalog {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.catalogs[site]
	if c == nil || c.KeepRemoved() != keep {
		c = stream.NewCatalog(stream.Options{KeepRemoved: keep}, s.now)
		s.catalogs[site] = c
	}
	return c
}

// each calls f with every site's catalog.
func (s *streams) each(f func(site string, c *stream.Catalog)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for site, c := range s.catalogs {
		f(site, c)
	}
}

// stage puts the stream stage of site s in front of next, and makes the
// site's cache teach its catalog.
func (s *streams) stage(site *config.Site, mode string, h *cache.Handler, next http.Handler) http.Handler {
	c := s.catalog(site.Name, site.Streams.KeepRemoved)
	h.Learner = c.Learn
	h.Listed, h.InScope = cacheHooks(c, site.Streams.Pass)
	s.mu.Lock()
	s.caches[site.Name] = h
	s.mu.Unlock()
	name := site.Name
	return &stream.Stage{
		Catalog: c, Viewers: s.viewers, Refuse: site.Streams.Refuse(), Shadow: mode == "shadow",
		Pass: site.Streams.Pass, Now: s.now, Next: next,
		Prefetch: func(path string) { s.prefetch.Ask(name + "\n" + path) },
	}
}

// cacheHooks are the cache's Listed and InScope from catalog c: listed
// when c lists the path, or when it lies under a pass prefix (never
// judged, so never held back as unknown); in scope where c judges.
func cacheHooks(c *stream.Catalog, pass []string) (listed, inScope func(string) bool) {
	listed = func(p string) bool {
		for _, pre := range pass {
			if strings.HasPrefix(p, pre) {
				return true
			}
		}
		// Until a first playlist is learned, playlists are what players
		// ask first: the known lane, not the attackers' share.
		return c.Lookup(p).Known == telemetry.KnownListed || (c.Empty() && strings.HasSuffix(p, ".m3u8"))
	}
	inScope = func(p string) bool {
		k := c.Lookup(p).Known
		return k != telemetry.KnownUnjudged
	}
	return listed, inScope
}
