package detect

import (
	"net/http"
	"net/netip"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
)

// Table sizes of one shard's second. A shard holds the sources of the
// prefixes hashed to it, so 16 shards track up to 8,192 sources and 4,096
// prefixes a second; fingerprints and paths are few in normal traffic.
const (
	numShards  = 16
	srcSlots   = 512
	pfxSlots   = 256
	fpSlots    = 32
	pathSlots  = 64
	sourcesP   = 12 // HyperLogLog precision of the distinct sources a second
	fpSourcesP = 8  // distinct sources per fingerprint
	pathP      = 6  // distinct query strings and sources per path
)

// sample is one request reduced to what the detector keeps; built on the
// stack by Observe.
type sample struct {
	src                       netip.Addr
	pfx                       netip.Prefix
	srcH, pfxH, fpH           uint64
	pathH, queryH             uint64
	class                     telemetry.Class
	outcome                   telemetry.Outcome
	status                    int
	latency                   time.Duration
	path, ua                  string
	guard, post, newSrc       bool
	player, hasQuery, expense bool
	offbeat                   bool // a URL asked past a player's pace on its connection
	// unlisted: a segment no playlist lists, already refused by the edge
	// for nothing; counted apart, never read into the other features.
	unlisted bool
	// costless: a listed object at a player's pace, or a viewer's request:
	// a cache lookup, nothing for the origin.
	costless bool
}

// fill reads rec and r; it must not keep pointers into rec.
func (s *sample) fill(rec *telemetry.Record, r *http.Request, now time.Time) {
	s.src = rec.Client.Unmap()
	if s.src.IsValid() {
		s.srcH = sourceKey(s.src)
		s.pfx = rec.Prefix
		if !s.pfx.IsValid() {
			s.pfx = prefixOf(s.src)
		}
		s.pfxH = prefixKey(s.pfx)
	}
	// The identity stage's fingerprint, when it ran: mitigations name it,
	// so it must be the one the filter matches.
	s.fpH, s.ua = fingerprintOf(r)
	if rec.Fingerprint != 0 {
		s.fpH = rec.Fingerprint
	}
	s.class, s.outcome, s.status = rec.Class, rec.Outcome, rec.Status
	if s.class >= telemetry.NumClasses {
		s.class = telemetry.ClassUnknown
	}
	if s.outcome >= telemetry.NumOutcomes {
		s.outcome = telemetry.OutcomeNone
	}
	if !rec.Start.IsZero() {
		s.latency = now.Sub(rec.Start)
	}
	s.guard = s.outcome == telemetry.OutcomeRefused && rec.Stage == "guard"
	s.unlisted = rec.Known == telemetry.KnownUnlisted && s.outcome == telemetry.OutcomeRefused
	s.costless = rec.Viewer || (rec.Known == telemetry.KnownListed && !rec.Offbeat)
	ok := s.status < 400 && s.outcome != telemetry.OutcomeRefused && s.outcome != telemetry.OutcomeError
	// Live playback and on-demand listening are what people do, at a
	// player's pace; floods ask for the same master playlist, API or
	// random paths, or repeat what players fetch far faster than they do.
	s.offbeat = rec.Repeats > maxPlayerRepeats
	s.player = ok && !s.offbeat && (s.class == telemetry.ClassMedia || s.class == telemetry.ClassSegment ||
		s.class == telemetry.ClassOnDemand)
	s.expense = s.class == telemetry.ClassAPI || s.outcome == telemetry.OutcomePass
	if r != nil && r.URL != nil {
		s.path = r.URL.Path
		s.pathH = stringHash(s.path)
		if q := r.URL.RawQuery; q != "" {
			s.queryH, s.hasQuery = stringHash(q), true
		}
		s.post = r.Method == http.MethodPost
		s.expense = s.expense || s.post
	}
}

// failed: the edge could not answer (an error, a 5xx of its own or the
// origin's). Refusals are answers.
func (s *sample) failed() bool {
	return s.outcome == telemetry.OutcomeError || (s.status >= 500 && s.outcome != telemetry.OutcomeRefused)
}

// classStat counts one route class over a second.
type classStat struct {
	outcomes                  [telemetry.NumOutcomes]uint64
	n, s4xx, s5xx             uint64
	latNs, hitLatNs, missLats int64
	hitN, missN               uint64
}

func (c *classStat) add(s *sample) {
	c.n++
	c.outcomes[s.outcome]++
	switch {
	case s.status >= 500:
		c.s5xx++
	case s.status >= 400:
		c.s4xx++
	}
	ns := int64(s.latency)
	c.latNs += ns
	switch s.outcome {
	case telemetry.OutcomeHit:
		c.hitLatNs += ns
		c.hitN++
	case telemetry.OutcomeMiss:
		c.missLats += ns
		c.missN++
	}
}

func (c *classStat) merge(o *classStat) {
	for i, v := range o.outcomes {
		c.outcomes[i] += v
	}
	c.n += o.n
	c.s4xx += o.s4xx
	c.s5xx += o.s5xx
	c.latNs += o.latNs
	c.hitLatNs += o.hitLatNs
	c.missLats += o.missLats
	c.hitN += o.hitN
	c.missN += o.missN
}

// srcEntry is what a heavy source did this second.
type srcEntry struct {
	key                       uint64
	addr                      netip.Addr
	pfx                       netip.Prefix
	n, player, guard, offbeat uint32
	lists, segs               uint32 // media playlists and segments asked, on all its connections
	urls                      uint64 // linear-counting bitmap of distinct URLs
}

func (e *srcEntry) add(s *sample) {
	if e.n == 0 {
		e.key, e.addr, e.pfx = s.srcH, s.src, s.pfx
	}
	e.n++
	e.player += b2u(s.player)
	e.offbeat += b2u(s.offbeat)
	e.guard += b2u(s.guard)
	e.lists += b2u(s.class == telemetry.ClassMedia)
	e.segs += b2u(s.class == telemetry.ClassSegment)
	e.urls |= 1 << ((s.pathH ^ mix(s.queryH)) >> 58)
}

// pfxEntry is what a heavy prefix did this second.
type pfxEntry struct {
	key              uint64
	pfx              netip.Prefix
	n, player, guard uint32
}

func (e *pfxEntry) add(s *sample) {
	if e.n == 0 {
		e.key, e.pfx = s.pfxH, s.pfx
	}
	e.n++
	e.player += b2u(s.player)
	e.guard += b2u(s.guard)
}

// fpEntry is what a heavy fingerprint did this second.
type fpEntry struct {
	key             uint64
	ua              string
	n, player, fail uint32
	costless        uint32 // listed objects at a player's pace, viewers' requests
	srcs            [1 << fpSourcesP]uint8
}

func (e *fpEntry) add(s *sample) {
	if e.n == 0 {
		e.key, e.ua = s.fpH, s.ua
	}
	e.n++
	e.player += b2u(s.player)
	e.fail += b2u(s.failed())
	e.costless += b2u(s.costless)
	if s.src.IsValid() {
		hllAdd(e.srcs[:], fpSourcesP, s.srcH)
	}
}

// pathEntry is what a heavy path did this second.
type pathEntry struct {
	key                         uint64
	path                        string
	class                       telemetry.Class
	n, expense, miss, withQuery uint32
	queries, srcs               [1 << pathP]uint8 // of the requests with a query
}

func (e *pathEntry) add(s *sample) {
	if e.n == 0 {
		e.key, e.path = s.pathH, s.path
	}
	e.n++
	e.class = s.class
	e.expense += b2u(s.expense)
	e.miss += b2u(s.outcome == telemetry.OutcomeMiss || s.outcome == telemetry.OutcomePass)
	if s.hasQuery {
		e.withQuery++
		hllAdd(e.queries[:], pathP, s.queryH)
		if s.src.IsValid() {
			hllAdd(e.srcs[:], pathP, s.srcH)
		}
	}
}

// window accumulates one shard's share of one second.
type window struct {
	n, guard, newSrc, legitN uint64
	unlisted                 uint64 // refused by the edge as unlisted, not in n
	classes                  [telemetry.NumClasses]classStat
	legitQuery               [telemetry.NumClasses]uint64
	sources                  [1 << sourcesP]uint8
	src                      *topK[srcEntry]
	pfx                      *topK[pfxEntry]
	fp                       *topK[fpEntry]
	path                     *topK[pathEntry]
	legit                    cms // player-like requests by source, prefix, fingerprint
}

func newWindow() *window {
	return &window{src: newTopK[srcEntry](srcSlots), pfx: newTopK[pfxEntry](pfxSlots),
		fp: newTopK[fpEntry](fpSlots), path: newTopK[pathEntry](pathSlots)}
}

// add counts one request; the caller holds the shard's lock.
func (w *window) add(s *sample) {
	if s.unlisted {
		w.unlisted++
		return
	}
	w.n++
	w.classes[s.class].add(s)
	w.guard += uint64(b2u(s.guard))
	w.newSrc += uint64(b2u(s.newSrc))
	if s.src.IsValid() {
		hllAdd(w.sources[:], sourcesP, s.srcH)
		w.src.touch(s.srcH).add(s)
		w.pfx.touch(s.pfxH).add(s)
	}
	if s.fpH != 0 {
		w.fp.touch(s.fpH).add(s)
	}
	if s.path != "" {
		w.path.touch(s.pathH).add(s)
	}
	if s.player {
		w.addLegit(s)
	}
}

func (w *window) addLegit(s *sample) {
	w.legitN++
	if s.hasQuery {
		w.legitQuery[s.class]++
	}
	if s.src.IsValid() {
		w.legit.add(s.srcH)
		w.legit.add(s.pfxH)
	}
	if s.fpH != 0 {
		w.legit.add(fingerKey(s.fpH))
	}
}

func (w *window) reset() {
	w.n, w.guard, w.newSrc, w.legitN, w.unlisted = 0, 0, 0, 0, 0
	w.classes = [telemetry.NumClasses]classStat{}
	w.legitQuery = [telemetry.NumClasses]uint64{}
	clear(w.sources[:])
	w.src.reset()
	w.pfx.reset()
	w.fp.reset()
	w.path.reset()
	clear(w.legit[:])
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}
