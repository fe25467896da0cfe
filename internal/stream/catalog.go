package stream

import (
	"bytes"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rempart/rempart/internal/hls"
	"github.com/rempart/rempart/internal/telemetry"
)

// Bounds of a Catalog, so that a hostile or broken origin cannot make the
// edge hold an unbounded set of names. Past them the catalog fails open:
// what it could not learn stays unjudged.
const (
	defaultMaxNames     = 500_000
	defaultMaxPlaylists = 4096
	defaultMaxPerList   = 50_000
	// predicted is how many next names of a numbered series count as
	// listed before a playlist lists them (a player that is early, an
	// edge whose playlist copy is a refresh behind another's).
	predicted = 3
	// sweepEvery spaces the removal of expired names.
	sweepEvery = 10 * time.Second
	// minHold is the least time a learned name stays listed, whatever the
	// target duration says.
	minHold = 30 * time.Second
)

// Options tunes a Catalog; zero values take the defaults.
type Options struct {
	// KeepRemoved is how long a name stays listed after the last playlist
	// that listed it was learned (players lag behind the live edge).
	KeepRemoved time.Duration
	// MaxNames bounds the names held; MaxPlaylists the media playlists;
	// MaxPerPlaylist the names one playlist may bring.
	MaxNames, MaxPlaylists, MaxPerPlaylist int
}

// Catalog is what the playlists of one site list. The cache stage feeds it
// (Learn) each playlist it stores; the stream stage asks it (Lookup) about
// every media request. Safe for concurrent use.
type Catalog struct {
	opt Options
	now func() time.Time
	// Judged counts the media requests judged, by judgement; Refused the
	// unlisted segments the stage answered itself.
	Judged  [3]atomic.Int64
	Refused atomic.Int64

	mu sync.RWMutex
	// names: path → unix nanoseconds until which it counts as listed.
	names map[string]int64
	// lists: media playlist path → what was learned of it.
	lists map[string]list
	// masters: master playlist path → until when it counts as one.
	masters map[string]int64
	// dirs are the scope: directories where every object is listed
	// (those of learned media playlists and of their segments), with the
	// time until which each stays so.
	dirs map[string]int64
	// open: directories where a playlist could not be learned (bad
	// syntax, a bound reached): unjudged until the time given.
	open map[string]int64
	// waiting: media playlists a master lists and the edge has not
	// learned yet; waitDirs counts them per directory, which stays
	// unjudged meanwhile (its segments may be listed by the missing one).
	waiting  map[string]int64
	waitDirs map[string]int
	// checked: directory → when Stale may next look at it.
	checked map[string]int64
	swept   int64
	full    bool // the last learn hit MaxNames: unknown names are unjudged
}

// list is a learned media playlist.
type list struct {
	until  int64
	at     int64 // when it was last learned
	target time.Duration
}

// NewCatalog returns an empty catalog; now is its clock (time.Now if nil).
func NewCatalog(opt Options, now func() time.Time) *Catalog {
	if opt.KeepRemoved <= 0 {
		opt.KeepRemoved = time.Minute
	}
	if opt.MaxNames <= 0 {
		opt.MaxNames = defaultMaxNames
	}
	if opt.MaxPlaylists <= 0 {
		opt.MaxPlaylists = defaultMaxPlaylists
	}
	if opt.MaxPerPlaylist <= 0 {
		opt.MaxPerPlaylist = defaultMaxPerList
	}
	if now == nil {
		now = time.Now
	}
	return &Catalog{
		opt: opt, now: now,
		names: make(map[string]int64), lists: make(map[string]list), dirs: make(map[string]int64), masters: make(map[string]int64),
		open: make(map[string]int64), waiting: make(map[string]int64), waitDirs: make(map[string]int),
		checked: make(map[string]int64),
	}
}

var tagStreamInf = []byte("#EXT-X-STREAM-INF")

// Learn takes the body of the playlist at path (a clean absolute path) that
// the cache just stored or revalidated.
func (c *Catalog) Learn(path string, body []byte) {
	now := c.now()
	if bytes.Contains(body, tagStreamInf) {
		c.learnMaster(path, body, now)
		return
	}
	c.learnMedia(path, body, now)
}

func (c *Catalog) learnMaster(path string, body []byte, now time.Time) {
	m, err := hls.ParseMaster(body)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sweepLocked(now)
	until := now.Add(c.opt.KeepRemoved + minHold).UnixNano()
	if err != nil {
		return // its variants stay unknown: their places are not in scope
	}
	c.listLocked(path, until) // a player's first request: a known master
	if _, ok := c.masters[path]; ok || len(c.masters) < c.opt.MaxPlaylists {
		c.masters[path] = until
	}
	for _, v := range m.Variants {
		p := resolve(path, v.URI)
		if p == "" {
			continue
		}
		c.listLocked(p, until)
		if _, ok := c.lists[p]; ok {
			continue
		}
		if _, ok := c.waiting[p]; !ok {
			c.waitDirs[dir(p)]++
		}
		c.waiting[p] = until
	}
}

func (c *Catalog) learnMedia(path string, body []byte, now time.Time) {
	m, err := hls.ParseMedia(body)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sweepLocked(now)
	d := dir(path)
	if err != nil {
		c.open[d] = now.Add(c.opt.KeepRemoved + minHold).UnixNano()
		return
	}
	hold := max(c.opt.KeepRemoved+2*m.TargetDuration, minHold)
	until := now.Add(hold).UnixNano()
	_, known := c.lists[path]
	n := len(m.Segments) + len(m.Pending) + predicted + 1
	for _, s := range m.Segments {
		n += len(s.Parts)
	}
	if (!known && len(c.lists) >= c.opt.MaxPlaylists) || n > c.opt.MaxPerPlaylist {
		c.open[d] = until
		return
	}
	c.lists[path] = list{until: until, at: now.UnixNano(), target: m.TargetDuration}
	c.listLocked(path, until)
	if _, ok := c.waiting[path]; ok {
		delete(c.waiting, path)
		c.unwaitLocked(d)
	}
	c.dirs[d] = until
	last := ""
	for _, s := range m.Segments {
		last = c.nameLocked(path, s.URI, until)
		for _, p := range s.Parts {
			c.nameLocked(path, p.URI, until)
		}
	}
	for _, p := range m.Pending {
		c.nameLocked(path, p.URI, until)
	}
	soon := now.Add(max(4*m.TargetDuration, minHold)).UnixNano()
	if uri, ok := m.PreloadHint.Get("URI"); ok {
		c.nameLocked(path, uri, soon)
	}
	if last != "" && !m.EndList {
		for _, p := range successors(last, predicted) {
			c.listLocked(p, soon)
		}
	}
}

// nameLocked lists the object uri of the playlist at base until the time
// given, puts its directory in scope, and returns its path.
func (c *Catalog) nameLocked(base, uri string, until int64) string {
	p := resolve(base, uri)
	if p == "" {
		return ""
	}
	c.listLocked(p, until)
	c.dirs[dir(p)] = max(c.dirs[dir(p)], until)
	return p
}

// listLocked counts p as listed until the time given (never shorter than
// it already was).
func (c *Catalog) listLocked(p string, until int64) {
	old, ok := c.names[p]
	if !ok && len(c.names) >= c.opt.MaxNames {
		c.full = true
		return
	}
	c.names[p] = max(old, until)
}

func (c *Catalog) unwaitLocked(d string) {
	if c.waitDirs[d]--; c.waitDirs[d] <= 0 {
		delete(c.waitDirs, d)
	}
}

// sweepLocked drops what expired, at most every sweepEvery.
func (c *Catalog) sweepLocked(now time.Time) {
	t := now.UnixNano()
	if t-c.swept < int64(sweepEvery) {
		return
	}
	c.swept = t
	for _, m := range []map[string]int64{c.names, c.dirs, c.open, c.masters, c.checked} {
		for k, until := range m {
			if until <= t {
				delete(m, k)
			}
		}
	}
	for k, l := range c.lists {
		if l.until <= t {
			delete(c.lists, k)
		}
	}
	for k, until := range c.waiting {
		if until <= t {
			delete(c.waiting, k)
			c.unwaitLocked(dir(k))
		}
	}
	c.full = len(c.names) >= c.opt.MaxNames
}

// Judgement is what the catalog says of one path.
type Judgement struct {
	Known telemetry.Known
	// Target is the target duration of a learned media playlist; 0
	// otherwise.
	Target time.Duration
	// Master is true for a learned master playlist.
	Master bool
	// Waiting is true when the object is unjudged only because a
	// rendition its master lists there has not been learned yet.
	Waiting bool
}

// Lookup judges the object at path (a clean absolute path, no query):
// listed, unlisted (its directory is in scope and no playlist lists it),
// or unjudged.
func (c *Catalog) Lookup(path string) Judgement {
	t := c.now().UnixNano()
	c.mu.RLock()
	defer c.mu.RUnlock()
	if until, ok := c.names[path]; ok && until > t {
		j := Judgement{Known: telemetry.KnownListed, Master: c.masters[path] > t}
		if l, ok := c.lists[path]; ok {
			j.Target = l.target
		}
		return j
	}
	if c.full {
		return Judgement{}
	}
	d := dir(path)
	switch {
	case c.open[d] > t || c.dirs[d] <= t:
		return Judgement{}
	case c.waitDirs[d] > 0:
		return Judgement{Waiting: true}
	}
	return Judgement{Known: telemetry.KnownUnlisted}
}

// Stale returns the media playlists of directory d that the edge should
// fetch itself, now that segment names it cannot list are asked there: the
// renditions a master lists and the edge has not learned (no player asked
// them here: a balancer may send their players' segments here all the
// same), and learned ones older than their target duration (nobody
// refreshes an unwatched rendition). It looks at a directory at most once
// a second, so a flood of unknown names costs one map read per request and
// the origin at most one playlist per rendition per target duration.
func (c *Catalog) Stale(d string) []string {
	t := c.now().UnixNano()
	c.mu.RLock()
	next := c.checked[d]
	c.mu.RUnlock()
	if next > t {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.checked[d] > t {
		return nil
	}
	c.checked[d] = t + int64(time.Second)
	var out []string
	for p := range c.waiting {
		if dir(p) == d {
			out = append(out, p)
		}
	}
	for p, l := range c.lists {
		if dir(p) == d && t-l.at > int64(max(l.target, time.Second)) {
			out = append(out, p)
		}
	}
	return out
}

// KeepRemoved returns how long removed names stay listed.
func (c *Catalog) KeepRemoved() time.Duration { return c.opt.KeepRemoved }

// Empty reports whether the catalog has learned no media playlist that is
// still current: the edge does not know its streams yet.
func (c *Catalog) Empty() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.lists) == 0
}

// Size is what the catalog holds, for metrics.
type Size struct {
	Names, Playlists int
	Full             bool
}

// Size returns what the catalog holds now.
func (c *Catalog) Size() Size {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return Size{Names: len(c.names), Playlists: len(c.lists), Full: c.full}
}
