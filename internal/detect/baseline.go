package detect

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/rempart/rempart/internal/telemetry"
)

// maxBaselineKeys bounds the per-fingerprint and per-path baselines.
const maxBaselineKeys = 1024

// warmSeconds is how many learned seconds the baseline needs before the
// relative verdicts (flash crowd, unknown attack, origin failure,
// saturation) are judged; the absolute attack floors apply from the start.
const warmSeconds = 10

// baseline is the learned normal traffic: exponentially weighted moving
// averages with the configured half-life, bias-corrected at the start (the
// first seconds are averaged, not weighted 1-in-ten-thousand against zero).
type baseline struct {
	halfLife float64 // seconds
	n        int     // seconds learned, legitimate ones (normal, flash crowd)
	nRate    int     // seconds learned into rate, normal ones only

	rate     float64 // requests per second; from normal seconds only
	player   float64 // share of player-like requests
	heavy    float64 // requests per second from heavy non-player sources
	guard    float64 // requests per second refused by the connection guard
	errRatio float64 // share of requests that ended in error or stale
	hitLat   float64 // mean latency of cache hits, seconds
	missLat  float64 // mean latency of misses, seconds

	fp, path map[uint64]float64 // requests per second by key
	// pathName names the keys of path for the snapshot: a path's key is a
	// hash seeded per process, so another process finds a path's baseline
	// by its name. Paths longer than maxPathName are neither named nor
	// saved.
	pathName map[uint64]string

	legit      cmsF // player-like requests per second by source, prefix, fingerprint
	legitN     float64
	legitQuery [telemetry.NumClasses]float64 // player-like requests with a query, by class
}

func newBaseline(halfLife float64) *baseline {
	return &baseline{halfLife: halfLife, fp: map[uint64]float64{}, path: map[uint64]float64{},
		pathName: map[uint64]string{}}
}

// alpha is the weight of a new second after n learned ones.
func (b *baseline) alpha(n int, dt float64) float64 {
	return max(1-math.Exp2(-dt/b.halfLife), 1/float64(n+1))
}

func (b *baseline) warm() bool { return b.nRate >= warmSeconds }

// learn folds in a second judged legitimate; normal says whether it was
// normal (not a flash crowd), the only seconds the request rate learns
// from, so that a crowd stays a crowd until it leaves.
func (b *baseline) learn(s *second, f *features, normal bool) {
	a := b.alpha(b.n, s.dt)
	b.n++
	if normal {
		b.rate += b.alpha(b.nRate, s.dt) * (f.rate - b.rate)
		b.nRate++
	}
	b.player += a * (f.playerShare - b.player)
	b.heavy += a * (f.heavy - b.heavy)
	b.guard += a * (f.guard - b.guard)
	b.errRatio += a * (f.errRatio - b.errRatio)
	if f.hitN > 0 {
		b.hitLat += a * (f.hitLat - b.hitLat)
	}
	if f.missN > 0 {
		b.missLat += a * (f.missLat - b.missLat)
	}
	b.learnKeys(b.fp, a, len(s.fps), func(i int) (uint64, uint32) { return s.fps[i].key, s.fps[i].n }, s.dt)
	b.learnKeys(b.path, a, len(s.paths), func(i int) (uint64, uint32) { return s.paths[i].key, s.paths[i].n }, s.dt)
	b.namePaths(s.paths)
	b.legit.learn(&s.legit, float32(a), float32(1/s.dt))
	b.legitN += a * (s.rate(s.legitN) - b.legitN)
	for c := range b.legitQuery {
		b.legitQuery[c] += a * (s.rate(s.legitQuery[c]) - b.legitQuery[c])
	}
}

// learnKeys decays every key of m towards this second's rate (0 when the
// key was not seen) and keeps the maxBaselineKeys busiest.
func (b *baseline) learnKeys(m map[uint64]float64, a float64, n int, at func(int) (uint64, uint32), dt float64) {
	for k, v := range m {
		m[k] = v * (1 - a)
	}
	for i := range n {
		k, c := at(i)
		m[k] += a * float64(c) / dt
	}
	for k, v := range m {
		if v < 1e-3 {
			delete(m, k)
		}
	}
	if len(m) <= maxBaselineKeys {
		return
	}
	vals := make([]float64, 0, len(m))
	for _, v := range m {
		vals = append(vals, v)
	}
	slices.SortFunc(vals, func(x, y float64) int { return cmp.Compare(y, x) })
	cut := vals[maxBaselineKeys-1]
	for k, v := range m {
		if v < cut {
			delete(m, k)
		}
	}
}

// maxPathName is the longest path whose baseline is saved in the snapshot
// (longer ones are rarely an endpoint's); it bounds the snapshot's size.
const maxPathName = 256

// namePaths remembers the names of the paths the baseline keeps and
// forgets those it dropped.
func (b *baseline) namePaths(paths []pathEntry) {
	for i := range paths {
		p := &paths[i]
		if _, kept := b.path[p.key]; !kept || len(p.path) > maxPathName {
			continue
		}
		if _, named := b.pathName[p.key]; !named {
			b.pathName[p.key] = strings.Clone(p.path) // not the request's memory
		}
	}
	for k := range b.pathName {
		if _, kept := b.path[k]; !kept {
			delete(b.pathName, k)
		}
	}
}

// legitShare is the fraction of the baseline's player-like requests that
// carry key (an overestimate, never an underestimate).
func (b *baseline) legitShare(key uint64) float64 {
	if b.legitN <= 0 {
		return 0
	}
	return min(1, b.legit.query(key)/b.legitN)
}
