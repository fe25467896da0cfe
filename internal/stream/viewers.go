package stream

import (
	"hash/maphash"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
)

// Viewer judgement, from what players do: a media playlist, then the
// segments it lists, about one per target duration per rendition.
const (
	// viewerWindow is how long a viewer stays one after its last listed
	// segment, and how long a playlist load counts for its segments.
	viewerWindow = 30 * time.Second
	// minSegments is how many listed segments after a playlist make a
	// viewer: one could be a guess, two in the window are playback.
	minSegments = 2
	// paceWindow is the span over which a client's pace is counted.
	paceWindow = 10 * time.Second
	// maxRepeats: a client's connection asking one URL more often in a
	// second is not playing it.
	maxRepeats = 3
	// playlistOnly: a client that loaded this many media playlists in a
	// pace window, and fewer than a quarter as many segments, is polling,
	// not watching.
	playlistOnly = 8
	// maxMasters: a player loads the master once when it starts; this
	// many in two pace windows is polling it.
	maxMasters   = 2
	viewerShards = 64
	// defaultMaxClients bounds the clients followed; past it new ones are
	// not followed (they are not viewers until room frees up).
	defaultMaxClients = 200_000
)

// Viewers follows clients' media requests and tells which behave as
// players. Safe for concurrent use; memory is bounded.
type Viewers struct {
	perShard int
	seed     maphash.Seed
	shards   [viewerShards]viewerShard
}

type viewerShard struct {
	mu    sync.Mutex
	m     map[netip.Addr]*follow
	swept int64
}

// follow is what one client did lately (unix nanoseconds).
type follow struct {
	lastList    int64 // last media playlist served to it
	viewerUntil int64 // a viewer until then
	since       int64 // start of the current pace window
	lists, segs int   // counted in the current pace window
	masters     int
	prevLists   int // ... and in the previous one
	prevSegs    int
	prevMasters int
	target      time.Duration // target duration of its last playlist
	last        int64         // last request seen
}

// NewViewers returns a table following at most maxClients clients
// (200,000 when not positive).
func NewViewers(maxClients int) *Viewers {
	if maxClients <= 0 {
		maxClients = defaultMaxClients
	}
	v := &Viewers{perShard: maxClients/viewerShards + 1, seed: maphash.MakeSeed()}
	for i := range v.shards {
		v.shards[i].m = make(map[netip.Addr]*follow)
	}
	return v
}

func (v *Viewers) shard(a netip.Addr) *viewerShard {
	return &v.shards[maphash.Comparable(v.seed, a)%viewerShards]
}

// Look judges a request before it is served: whether its client is a
// viewer, and whether this request is out of a player's pace (offbeat).
// target is the target duration of the playlist asked, 0 if unknown.
func (v *Viewers) Look(client netip.Addr, cls telemetry.Class, repeats int, target time.Duration, now time.Time) (viewer, offbeat bool) {
	sh := v.shard(client)
	t := now.UnixNano()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	f := sh.m[client]
	if f == nil {
		return false, repeats > maxRepeats
	}
	f.roll(t)
	if target > 0 && cls == telemetry.ClassMedia {
		f.target = target
	}
	lists, segs := f.lists+f.prevLists, f.segs+f.prevSegs
	switch cls {
	case telemetry.ClassMaster:
		offbeat = repeats > maxRepeats || f.masters+f.prevMasters >= maxMasters
	case telemetry.ClassMedia:
		offbeat = repeats > maxRepeats || (lists >= playlistOnly && segs*4 < lists)
	case telemetry.ClassSegment:
		offbeat = repeats > maxRepeats || segs > f.maxSegments()
	default:
		offbeat = repeats > maxRepeats
	}
	return f.viewerUntil > t && !offbeat, offbeat
}

// maxSegments is the most segments a player asks in two pace windows:
// a join's burst, then a few renditions' worth at its target duration.
func (f *follow) maxSegments() int {
	target := f.target
	if target <= 0 {
		target = time.Second
	}
	return 12 + 6*int(2*paceWindow/target)
}

// roll starts a new pace window when the current one is over.
func (f *follow) roll(t int64) {
	switch {
	case t-f.since >= 2*int64(paceWindow):
		f.since, f.lists, f.segs, f.masters, f.prevLists, f.prevSegs, f.prevMasters = t, 0, 0, 0, 0, 0, 0
	case t-f.since >= int64(paceWindow):
		f.since, f.prevLists, f.prevSegs, f.prevMasters = t, f.lists, f.segs, f.masters
		f.lists, f.segs, f.masters = 0, 0, 0
	}
}

// Observe takes a finished request: playlists and listed segments served
// by the cache (from its store or the origin, never the edge's own pages)
// make a client a viewer; asking one URL again and again unmakes it.
func (v *Viewers) Observe(rec *telemetry.Record, _ *http.Request, now time.Time) {
	if rec.Known != telemetry.KnownListed || !rec.ServedObject() {
		return
	}
	if rec.Class != telemetry.ClassMaster && rec.Class != telemetry.ClassMedia && rec.Class != telemetry.ClassSegment {
		return
	}
	sh := v.shard(rec.Client)
	t := now.UnixNano()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	f := sh.m[rec.Client]
	if f == nil {
		if rec.Class == telemetry.ClassSegment || !v.roomLocked(sh, t) {
			return // a viewer starts with a playlist
		}
		f = &follow{since: t}
		sh.m[rec.Client] = f
	}
	f.roll(t)
	f.last = t
	if rec.Repeats > maxRepeats || rec.Offbeat {
		f.viewerUntil = 0
		return
	}
	switch rec.Class {
	case telemetry.ClassMaster:
		f.masters++
	case telemetry.ClassMedia:
		f.lists++
		f.lastList = t
	case telemetry.ClassSegment:
		f.segs++
		switch segs := f.segs + f.prevSegs; {
		case segs > f.maxSegments():
			f.viewerUntil = 0 // faster than any player
		case segs >= minSegments && t-f.lastList < int64(viewerWindow):
			f.viewerUntil = t + int64(viewerWindow)
		}
	}
}

// roomLocked reports whether sh may follow one more client, sweeping
// clients idle for a viewer window first (at most once a second).
func (v *Viewers) roomLocked(sh *viewerShard, t int64) bool {
	if len(sh.m) < v.perShard {
		return true
	}
	if t-sh.swept < int64(time.Second) {
		return false
	}
	sh.swept = t
	for a, f := range sh.m {
		if t-f.last > int64(viewerWindow) {
			delete(sh.m, a)
		}
	}
	return len(sh.m) < v.perShard
}

// Count returns how many followed clients are viewers now.
func (v *Viewers) Count(now time.Time) int {
	t := now.UnixNano()
	n := 0
	for i := range v.shards {
		sh := &v.shards[i]
		sh.mu.Lock()
		for a, f := range sh.m {
			switch {
			case f.viewerUntil > t:
				n++
			case t-f.last > int64(viewerWindow):
				delete(sh.m, a)
			}
		}
		sh.mu.Unlock()
	}
	return n
}
