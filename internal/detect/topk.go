package detect

// topK is a space-saving table of at most k keys with their counts and an
// entry of per-key features E. A key not in a full table replaces the
// smallest of a few sampled slots (sampled rather than exact minimum, so
// that a stream of millions of distinct keys costs O(1) per request) and
// inherits its count, the classic space-saving overestimate. Decisions use
// the entry's own counters, which only count requests seen since the key
// entered, so they never overstate a key.
//
// The index is open addressing without deletion: an evicted key leaves a
// stale index entry that no longer matches its slot's key, and the index is
// rebuilt from the live slots once half of it is used.
type topK[E any] struct {
	keys   []uint64 // slot → key; keys are never 0
	counts []uint32 // slot → space-saving count (with inherited error)
	ents   []E      // slot → features
	n      int      // slots in use
	idx    []int32  // open addressing: slot+1, 0 empty
	used   int      // idx entries set, live or stale
	rnd    uint64   // xorshift state for sampling victims
}

// victimSamples is how many slots are looked at to pick one to evict.
const victimSamples = 8

func newTopK[E any](k int) *topK[E] {
	size := 1
	for size < 4*k {
		size <<= 1
	}
	return &topK[E]{keys: make([]uint64, k), counts: make([]uint32, k),
		ents: make([]E, k), idx: make([]int32, size), rnd: 0x9e3779b97f4a7c15}
}

// touch counts one more request for key and returns its slot; a fresh slot
// has a zeroed entry.
func (t *topK[E]) touch(key uint64) *E {
	if key == 0 {
		key = 1
	}
	if s := t.find(key); s >= 0 {
		t.counts[s]++
		return &t.ents[s]
	}
	s, base := t.n, uint32(0)
	if t.n < len(t.keys) {
		t.n++
	} else {
		s = t.victim()
		base = t.counts[s]
	}
	t.keys[s], t.counts[s] = key, base+1
	var zero E
	t.ents[s] = zero
	t.index(key, s)
	return &t.ents[s]
}

func (t *topK[E]) find(key uint64) int {
	mask := len(t.idx) - 1
	for i := int(key) & mask; ; i = (i + 1) & mask {
		s := t.idx[i]
		if s == 0 {
			return -1
		}
		if t.keys[s-1] == key {
			return int(s - 1)
		}
	}
}

func (t *topK[E]) index(key uint64, s int) {
	if 2*(t.used+1) > len(t.idx) {
		t.rebuild() // indexes slot s too: its key is already written
		return
	}
	mask := len(t.idx) - 1
	i := int(key) & mask
	for t.idx[i] != 0 {
		i = (i + 1) & mask
	}
	t.idx[i] = int32(s + 1)
	t.used++
}

// rebuild drops the stale index entries, indexing every live slot.
func (t *topK[E]) rebuild() {
	clear(t.idx)
	t.used = 0
	mask := len(t.idx) - 1
	for s := range t.n {
		i := int(t.keys[s]) & mask
		for t.idx[i] != 0 {
			i = (i + 1) & mask
		}
		t.idx[i] = int32(s + 1)
		t.used++
	}
}

func (t *topK[E]) victim() int {
	best := -1
	for range victimSamples {
		t.rnd ^= t.rnd << 13
		t.rnd ^= t.rnd >> 7
		t.rnd ^= t.rnd << 17
		s := int(t.rnd % uint64(t.n))
		if best < 0 || t.counts[s] < t.counts[best] {
			best = s
		}
	}
	return best
}

func (t *topK[E]) reset() {
	t.n, t.used = 0, 0
	clear(t.idx)
}
