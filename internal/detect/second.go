package detect

import (
	"cmp"
	"slices"

	"github.com/rempart/rempart/internal/telemetry"
)

// second is one closed second, merged from the shards' windows. Its slices
// and maps are reused from tick to tick.
type second struct {
	dt                       float64 // seconds covered
	n, guard, newSrc, legitN uint64
	unlisted                 uint64 // unlisted segments the edge refused, not in n
	classes                  [telemetry.NumClasses]classStat
	legitQuery               [telemetry.NumClasses]uint64
	sources                  [1 << sourcesP]uint8
	srcs                     []srcEntry // every tracked source, heaviest first
	pfxs                     []pfxEntry // every tracked prefix, heaviest first
	pfxIdx                   map[uint64]int
	fps                      []fpEntry // merged across shards, heaviest first
	paths                    []pathEntry
	fpIdx, pathIdx           map[uint64]int // used while merging
	legit                    cms
}

func newSecond() *second {
	return &second{pfxIdx: map[uint64]int{}, fpIdx: map[uint64]int{}, pathIdx: map[uint64]int{}}
}

func (s *second) reset(dt float64) {
	srcs, pfxs, fps, paths := s.srcs[:0], s.pfxs[:0], s.fps[:0], s.paths[:0]
	pi, fi, pa := s.pfxIdx, s.fpIdx, s.pathIdx
	clear(pi)
	clear(fi)
	clear(pa)
	clear(s.legit[:])
	*s = second{dt: dt, srcs: srcs, pfxs: pfxs, fps: fps, paths: paths,
		pfxIdx: pi, fpIdx: fi, pathIdx: pa}
}

// merge adds one shard's window. Sources and prefixes live in one shard
// each (shards are chosen by prefix); fingerprints and paths span shards
// and are summed.
func (s *second) merge(w *window) {
	s.n += w.n
	s.guard += w.guard
	s.newSrc += w.newSrc
	s.legitN += w.legitN
	s.unlisted += w.unlisted
	for c := range s.classes {
		s.classes[c].merge(&w.classes[c])
		s.legitQuery[c] += w.legitQuery[c]
	}
	hllMerge(s.sources[:], w.sources[:])
	s.srcs = append(s.srcs, w.src.ents[:w.src.n]...)
	s.pfxs = append(s.pfxs, w.pfx.ents[:w.pfx.n]...)
	for i := range w.fp.n {
		s.mergeFP(&w.fp.ents[i])
	}
	for i := range w.path.n {
		s.mergePath(&w.path.ents[i])
	}
	s.legit.merge(&w.legit)
}

func (s *second) mergeFP(e *fpEntry) {
	if i, ok := s.fpIdx[e.key]; ok {
		f := &s.fps[i]
		f.n += e.n
		f.player += e.player
		f.fail += e.fail
		f.costless += e.costless
		hllMerge(f.srcs[:], e.srcs[:])
		return
	}
	s.fpIdx[e.key] = len(s.fps)
	s.fps = append(s.fps, *e)
}

func (s *second) mergePath(e *pathEntry) {
	if i, ok := s.pathIdx[e.key]; ok {
		p := &s.paths[i]
		p.n += e.n
		p.expense += e.expense
		p.miss += e.miss
		p.withQuery += e.withQuery
		hllMerge(p.queries[:], e.queries[:])
		hllMerge(p.srcs[:], e.srcs[:])
		return
	}
	s.pathIdx[e.key] = len(s.paths)
	s.paths = append(s.paths, *e)
}

// finish sorts the tables, heaviest first, and indexes the prefixes.
func (s *second) finish() {
	slices.SortFunc(s.srcs, func(a, b srcEntry) int { return cmp.Compare(b.n, a.n) })
	slices.SortFunc(s.pfxs, func(a, b pfxEntry) int { return cmp.Compare(b.n, a.n) })
	slices.SortFunc(s.fps, func(a, b fpEntry) int { return cmp.Compare(b.n, a.n) })
	slices.SortFunc(s.paths, func(a, b pathEntry) int { return cmp.Compare(b.n, a.n) })
	for i := range s.pfxs {
		s.pfxIdx[s.pfxs[i].key] = i
	}
}

// rate turns a count over the second into requests per second.
func (s *second) rate(n uint64) float64 { return float64(n) / s.dt }

// outcome sums requests that ended with o, over all classes.
func (s *second) outcome(o telemetry.Outcome) uint64 {
	var n uint64
	for c := range s.classes {
		n += s.classes[c].outcomes[o]
	}
	return n
}

// latencies returns the mean latency of cache hits and of misses, in
// seconds, and how many of each were seen.
func (s *second) latencies() (hit, miss float64, hitN, missN uint64) {
	var hitNs, missNs int64
	for c := range s.classes {
		cl := &s.classes[c]
		hitNs, missNs = hitNs+cl.hitLatNs, missNs+cl.missLats
		hitN, missN = hitN+cl.hitN, missN+cl.missN
	}
	if hitN > 0 {
		hit = float64(hitNs) / float64(hitN) / 1e9
	}
	if missN > 0 {
		miss = float64(missNs) / float64(missN) / 1e9
	}
	return hit, miss, hitN, missN
}

// legitShare is the fraction of this second's player-like requests that
// carry key.
func (s *second) legitShare(key uint64) float64 {
	if s.legitN == 0 {
		return 0
	}
	return float64(s.legit.query(key)) / float64(s.legitN)
}
