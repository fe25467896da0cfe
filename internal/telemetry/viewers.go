package telemetry

import (
	"hash/maphash"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

const viewerShards = 32

// StageCache is the stage the cache records for every answer it gives from
// its store or the origin (internal/cache names itself so; the edge's
// TestAttackModeSparesViewers fails if the two part).
const StageCache = "cache"

// ServedObject reports whether r was answered with the object it named,
// by the cache from its store or the origin: 2xx, or 304 to a
// revalidation. The edge's own answers (a challenge page, the waiting
// room, a refusal) are not, whatever their status: counting them as
// watching let any client that asked a .ts as a document skip attack mode
// on every path (issue 11, hole 1).
func (r *Record) ServedObject() bool {
	return r.Stage == StageCache && (r.Status >= 200 && r.Status < 300 || r.Status == http.StatusNotModified)
}

// Viewers estimates how many distinct clients are watching: addresses that
// fetched a live playlist or segment within the window. Its memory is
// bounded: once full, new addresses are not tracked until old ones expire,
// and Count says so through its saturated result.
type Viewers struct {
	window   time.Duration
	perShard int
	seed     maphash.Seed
	shards   [viewerShards]viewerShard
}

type viewerShard struct {
	mu    sync.Mutex           // protects last and swept
	last  map[netip.Addr]int64 // client → unix seconds of its last live request
	swept int64                // unix second of the last sweep
}

// NewViewers returns a table of at most max clients (at least viewerShards).
func NewViewers(max int, window time.Duration) *Viewers {
	v := &Viewers{window: window, perShard: max/viewerShards + 1, seed: maphash.MakeSeed()}
	for i := range v.shards {
		v.shards[i].last = make(map[netip.Addr]int64)
	}
	return v
}

// Seen notes that addr fetched live media at now.
func (v *Viewers) Seen(addr netip.Addr, now time.Time) {
	sh := &v.shards[v.shardOf(addr)]
	sec := now.Unix()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.last[addr]; !ok && len(sh.last) >= v.perShard {
		v.sweepLocked(sh, sec)
		if len(sh.last) >= v.perShard {
			return
		}
	}
	sh.last[addr] = sec
}

// Count returns the number of clients seen within the window, and whether
// the table was full (the true number may be higher).
func (v *Viewers) Count(now time.Time) (n int, saturated bool) {
	sec := now.Unix()
	for i := range v.shards {
		sh := &v.shards[i]
		sh.mu.Lock()
		v.sweepLocked(sh, sec)
		n += len(sh.last)
		saturated = saturated || len(sh.last) >= v.perShard
		sh.mu.Unlock()
	}
	return n, saturated
}

func (v *Viewers) shardOf(addr netip.Addr) int {
	return int(maphash.Comparable(v.seed, addr) % viewerShards)
}

// sweepLocked drops clients not seen within the window, at most once a
// second per shard so that a full table under attack costs no repeated scans.
func (v *Viewers) sweepLocked(sh *viewerShard, sec int64) {
	if sh.swept == sec {
		return
	}
	sh.swept = sec
	cutoff := sec - int64(v.window/time.Second)
	for a, t := range sh.last {
		if t < cutoff {
			delete(sh.last, a)
		}
	}
}

// Recent reports whether addr fetched live media within the window: a
// viewer already watching, whom attack mode must not challenge.
func (v *Viewers) Recent(addr netip.Addr, now time.Time) bool {
	sh := &v.shards[v.shardOf(addr)]
	sh.mu.Lock()
	last, ok := sh.last[addr]
	sh.mu.Unlock()
	return ok && last >= now.Unix()-int64(v.window/time.Second)
}
