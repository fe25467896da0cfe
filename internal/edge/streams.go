package edge

import (
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
	now     func() time.Time
	viewers *stream.Viewers

	mu       sync.Mutex
	catalogs map[string]*stream.Catalog // site name → its catalog
}

func newStreams(now func() time.Time) *streams {
	return &streams{now: now, viewers: stream.NewViewers(0), catalogs: make(map[string]*stream.Catalog)}
}

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
	return &stream.Stage{
		Catalog: c, Viewers: s.viewers, Refuse: site.Streams.Refuse(), Shadow: mode == "shadow",
		Pass: site.Streams.Pass, Now: s.now, Next: next,
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
		k := c.Lookup(p).Known
		return k == telemetry.KnownListed
	}
	inScope = func(p string) bool {
		k := c.Lookup(p).Known
		return k != telemetry.KnownUnjudged
	}
	return listed, inScope
}
