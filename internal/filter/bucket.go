package filter

import (
	"math/rand/v2"
	"sync"
	"time"
)

// bucket is one token bucket: tokens left as of last (Unix nanoseconds).
//
// A hand-written bucket rather than golang.org/x/time/rate.Limiter: the
// Limiter carries its own mutex and five more words, and a table of a
// million of them is what a botnet makes us hold. This one is 16 bytes and
// lives inside the table's node, updated under the shard lock the lookup
// already took.
type bucket struct {
	tokens float64
	last   int64
}

// fill starts b full at now.
func (b *bucket) fill(now int64, burst float64) {
	b.tokens, b.last = burst, now
}

// take refills b for the time since its last use and takes one token. It
// returns 0 when it took one, else how long until one is there. A clock
// that steps back refills nothing.
func (b *bucket) take(now int64, rate, burst float64) time.Duration {
	if elapsed := now - b.last; elapsed > 0 {
		b.tokens = min(burst, b.tokens+float64(elapsed)*rate/1e9)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return time.Duration((1 - b.tokens) / rate * 1e9)
}

// retryAfter rounds a wait up to the whole seconds of a Retry-After header,
// at least 1.
func retryAfter(wait time.Duration) int {
	s := int((wait + time.Second - 1) / time.Second)
	return max(1, s)
}

// key identifies what a limiter counts: an address or prefix (as its 16
// bytes) and a fingerprint. It holds no pointer, so that a table of a
// million keys is not scanned by the garbage collector.
type key struct{ hi, lo, fp uint64 }

// keyTable maps keys to token buckets, holding at most max of them: when
// full, the least recently used key is forgotten (its bucket starts full
// again if it comes back, which errs on the side of the client). It is
// sharded so that cores do not queue on one lock.
//
// A sharded LRU rather than otter: the bound is exact (otter may overshoot
// while its maintenance catches up), nothing runs in the background, and at
// the bound a new key reuses the evicted node, so a botnet's fresh
// addresses cost no allocation at all.
type keyTable struct {
	seed   uint64
	mask   uint64
	shards []shard
}

// shard is one lock's worth of a keyTable: a map into an array of nodes
// linked in recency order.
type shard struct {
	mu    sync.Mutex    // guards everything below
	index map[key]int32 // node of each key
	nodes []node        // grows to max, then reused from the tail
	head  int32         // most recently used; -1 when empty
	tail  int32         // least recently used; -1 when empty
	max   int           // most nodes
	_     [16]byte      // keeps neighbouring shards off one cache line
}

type node struct {
	k          key
	b          bucket
	prev, next int32
}

// Tables under this size have one shard, so tests see exact LRU order.
const shardedFrom = 4096

// newKeyTable returns a table of at most size keys (at least 1).
func newKeyTable(size int) *keyTable {
	size = max(size, 1)
	n := 1
	if size >= shardedFrom {
		n = 64
	}
	t := &keyTable{seed: rand.Uint64(), mask: uint64(n - 1), shards: make([]shard, n)}
	per := (size + n - 1) / n
	for i := range t.shards {
		t.shards[i] = shard{index: make(map[key]int32), head: -1, tail: -1, max: per}
	}
	return t
}

// take takes a token from k's bucket, creating it full when k is new.
func (t *keyTable) take(k key, now int64, rate, burst float64) time.Duration {
	sh := &t.shards[t.hash(k)&t.mask]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.nodeLocked(k, now, burst).b.take(now, rate, burst)
}

// hash spreads keys over the shards; the seed keeps an attacker from
// aiming every key at one shard.
func (t *keyTable) hash(k key) uint64 {
	const m = 0x9E3779B97F4A7C15
	h := (t.seed ^ k.hi) * m
	h = (h ^ k.lo) * m
	h = (h ^ k.fp) * m
	return h ^ h>>31
}

// len returns the number of keys held.
func (t *keyTable) len() int {
	n := 0
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		n += len(sh.index)
		sh.mu.Unlock()
	}
	return n
}

// nodeLocked returns k's node, most recently used now, making it (full)
// when k is new.
func (sh *shard) nodeLocked(k key, now int64, burst float64) *node {
	if i, ok := sh.index[k]; ok {
		sh.toFrontLocked(i)
		return &sh.nodes[i]
	}
	var i int32
	if len(sh.nodes) < sh.max {
		sh.nodes = append(sh.nodes, node{})
		i = int32(len(sh.nodes) - 1)
	} else {
		i = sh.tail
		delete(sh.index, sh.nodes[i].k)
		sh.unlinkLocked(i)
	}
	n := &sh.nodes[i]
	n.k = k
	n.b.fill(now, burst)
	sh.index[k] = i
	sh.pushFrontLocked(i)
	return n
}

func (sh *shard) toFrontLocked(i int32) {
	if sh.head == i {
		return
	}
	sh.unlinkLocked(i)
	sh.pushFrontLocked(i)
}

func (sh *shard) unlinkLocked(i int32) {
	n := &sh.nodes[i]
	if n.prev >= 0 {
		sh.nodes[n.prev].next = n.next
	} else {
		sh.head = n.next
	}
	if n.next >= 0 {
		sh.nodes[n.next].prev = n.prev
	} else {
		sh.tail = n.prev
	}
	n.prev, n.next = -1, -1
}

func (sh *shard) pushFrontLocked(i int32) {
	n := &sh.nodes[i]
	n.prev, n.next = -1, sh.head
	if sh.head >= 0 {
		sh.nodes[sh.head].prev = i
	}
	sh.head = i
	if sh.tail < 0 {
		sh.tail = i
	}
}

// globalBucket is one bucket shared by every client (shed_route).
type globalBucket struct {
	mu sync.Mutex // guards b
	b  bucket
}

func newGlobalBucket(now int64, burst float64) *globalBucket {
	g := &globalBucket{}
	g.b.fill(now, burst)
	return g
}

func (g *globalBucket) take(now int64, rate, burst float64) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.b.take(now, rate, burst)
}
