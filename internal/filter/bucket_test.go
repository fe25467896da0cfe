package filter

import (
	"runtime"
	"testing"
	"time"
)

func TestBucketMath(t *testing.T) {
	const sec = int64(time.Second)
	var b bucket
	b.fill(0, 3) // 2/s, burst 3
	for i := range 3 {
		if w := b.take(0, 2, 3); w != 0 {
			t.Fatalf("take %d of the burst: wait %v, want 0", i, w)
		}
	}
	if w := b.take(0, 2, 3); w != 500*time.Millisecond {
		t.Fatalf("empty bucket at 2/s: wait %v, want 500ms", w)
	}
	if w := b.take(sec/4, 2, 3); w != 250*time.Millisecond {
		t.Fatalf("half a token refilled: wait %v, want 250ms", w)
	}
	if w := b.take(sec/2, 2, 3); w != 0 {
		t.Fatalf("a token refilled after 500ms: wait %v, want 0", w)
	}
	if w := b.take(100*sec, 2, 3); w != 0 || b.tokens != 2 {
		t.Fatalf("after a long idle: wait %v tokens %v, want 0 and burst-1 = 2", w, b.tokens)
	}
	// A clock stepping back refills nothing.
	b.tokens = 0
	if w := b.take(50*sec, 2, 3); w == 0 {
		t.Fatal("clock stepped back: got a token from nowhere")
	}
}

func TestRetryAfterRoundsUp(t *testing.T) {
	for _, tc := range []struct {
		wait time.Duration
		want int
	}{{time.Nanosecond, 1}, {time.Second, 1}, {time.Second + 1, 2}, {90 * time.Second, 90}} {
		if got := retryAfter(tc.wait); got != tc.want {
			t.Errorf("retryAfter(%v) = %d, want %d", tc.wait, got, tc.want)
		}
	}
}

func TestSlowRateRetryAfter(t *testing.T) {
	var b bucket
	b.fill(0, 1)
	b.take(0, 0.1, 1) // one per 10 s
	if got := retryAfter(b.take(0, 0.1, 1)); got != 10 {
		t.Fatalf("Retry-After at 0.1/s = %d, want 10", got)
	}
}

func TestKeyTableEvictsLeastRecentlyUsed(t *testing.T) {
	kt := newKeyTable(2)
	a, b, c := key{lo: 1}, key{lo: 2}, key{lo: 3}
	kt.take(a, 0, 1, 1) // a empty now
	kt.take(b, 0, 1, 1)
	kt.take(a, 0, 1, 1) // a used last: b is the oldest
	kt.take(c, 0, 1, 1) // evicts b
	if kt.len() != 2 {
		t.Fatalf("len = %d, want 2", kt.len())
	}
	if w := kt.take(a, 0, 1, 1); w == 0 {
		t.Fatal("a was evicted: its empty bucket came back full")
	}
	if w := kt.take(b, 0, 1, 1); w != 0 {
		t.Fatal("b was kept: want it forgotten (a fresh, full bucket)")
	}
}

// TestKeyTableMemoryBounded feeds a million distinct addresses to a table
// of the default size: it must stay at its bound, and so must the heap.
func TestKeyTableMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("a million keys (skipped under -short)")
	}
	const keys = 1_000_000
	kt := newKeyTable(DefaultMaxKeys)
	before := heapInUse()
	for i := range uint64(keys) {
		kt.take(key{hi: 0xffff, lo: i}, int64(i), 10, 20)
	}
	grown := heapInUse() - before
	if n := kt.len(); n > DefaultMaxKeys+len(kt.shards) {
		t.Fatalf("table holds %d keys after %d distinct, want at most %d", n, keys, DefaultMaxKeys+len(kt.shards))
	}
	// ~48 bytes a node and ~40 a map slot: some 18 MiB for 200,000 keys.
	if limit := uint64(64 << 20); grown > limit {
		t.Fatalf("heap grew %d MiB for a table of %d keys, want under %d MiB", grown>>20, DefaultMaxKeys, limit>>20)
	}
	t.Logf("%d distinct keys: table %d keys, heap +%.1f MiB", keys, kt.len(), float64(grown)/(1<<20))
	runtime.KeepAlive(kt)
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

func TestKeyTableSteadyStateAllocatesNothing(t *testing.T) {
	kt := newKeyTable(1000)
	var i uint64
	for ; i < 2000; i++ { // fill, then churn
		kt.take(key{lo: i}, 0, 1, 1)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		i++
		kt.take(key{lo: i}, 0, 1, 1) // a new key each time: reuses the evicted node
	})
	if allocs != 0 {
		t.Fatalf("new key in a full table: %v allocations, want 0", allocs)
	}
}
