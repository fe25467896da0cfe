package detect

import "sync/atomic"

// recent remembers which sources were seen in the last few minutes, in two
// generations of a Bloom filter: a source is known if either generation has
// it, and every tick past the half-window the older generation is cleared
// and becomes the current one. Memory is fixed (2 × bits); at recentBits
// and a million sources a generation reports about one new source in ten
// as known, which undercounts new sources, never memory.
type recent struct {
	gens [2][]atomic.Uint64
	bits uint64        // per generation
	cur  atomic.Uint32 // index of the generation being written
}

const (
	recentBits   = 1 << 23 // per generation of the sources seen: 1 MiB
	recentHashes = 3
)

// newRecent returns a filter of bits per generation (a multiple of 64).
func newRecent(bits uint64) *recent {
	r := &recent{bits: bits}
	for i := range r.gens {
		r.gens[i] = make([]atomic.Uint64, bits/64)
	}
	return r
}

// seen records source hash h and reports whether it was known already.
func (r *recent) seen(h uint64) bool {
	c := r.cur.Load() & 1
	if r.has(c, h) {
		return true
	}
	known := r.has(c^1, h)
	r.set(c, h)
	return known
}

// add records h.
func (r *recent) add(h uint64) { r.set(r.cur.Load()&1, h) }

// known reports whether h was seen in either generation, recording nothing.
func (r *recent) known(h uint64) bool {
	c := r.cur.Load() & 1
	return r.has(c, h) || r.has(c^1, h)
}

func (r *recent) has(g uint32, h uint64) bool {
	bits := r.gens[g]
	h1, h2 := h, h>>32|h<<32|1
	for i := range uint64(recentHashes) {
		p := (h1 + i*h2) % r.bits
		if bits[p/64].Load()&(1<<(p%64)) == 0 {
			return false
		}
	}
	return true
}

func (r *recent) set(g uint32, h uint64) {
	bits := r.gens[g]
	h1, h2 := h, h>>32|h<<32|1
	for i := range uint64(recentHashes) {
		p := (h1 + i*h2) % r.bits
		bits[p/64].Or(1 << (p % 64))
	}
}

// rotate clears the older generation and makes it the current one.
// Observers still writing the old current generation are harmless: the
// bits they set are in the generation that is now the older one.
func (r *recent) rotate() {
	next := (r.cur.Load() & 1) ^ 1
	for i := range r.gens[next] {
		r.gens[next][i].Store(0)
	}
	r.cur.Store(next)
}
