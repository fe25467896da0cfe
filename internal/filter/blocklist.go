package filter

import (
	"container/heap"
	"errors"
	"fmt"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/gaissmai/bart"

	"github.com/rempart/rempart/internal/mitigation"
)

// blockEntry is one blocked prefix. Decide reads until and hits without a
// lock; the other mutable fields are guarded by Shield.mu.
type blockEntry struct {
	prefix netip.Prefix
	since  time.Time
	until  atomic.Int64  // Unix nanoseconds; 0: never expires (block files)
	hits   atomic.Uint64 // requests refused
	meta   atomic.Pointer[blockMeta]

	removed bool // guarded by Shield.mu: out of the table, its expiry item stale
}

// blockMeta is what a renewal may change besides the end; replaced whole,
// so that listings read it without the lock.
type blockMeta struct {
	id     string // mitigation ID; "" for block files
	source string
	reason string
}

func (e *blockEntry) id() string { return e.meta.Load().id }

// live reports whether e still applies at now (Unix nanoseconds).
func (e *blockEntry) live(now int64) bool {
	u := e.until.Load()
	return u == 0 || u > now
}

// view describes e as a Mitigation.
func (e *blockEntry) view(shadow bool) mitigation.Mitigation {
	md := e.meta.Load()
	m := mitigation.Mitigation{ID: md.id, Kind: mitigation.BlockPrefix, Prefix: e.prefix,
		Reason: md.reason, Source: md.source, Since: e.since, Hits: e.hits.Load(), Shadow: shadow}
	if u := e.until.Load(); u != 0 {
		m.Until = time.Unix(0, u).UTC()
	}
	if m.ID == "" {
		m.ID = blockID(e.prefix)
	}
	return m
}

// blockID is the ID of operator blocks: one per prefix, so that blocking
// again renews.
func blockID(p netip.Prefix) string { return string(mitigation.BlockPrefix) + ":" + p.String() }

// blocked reports whether addr is blocked at now, counting the hit.
func (s *Shield) blocked(addr netip.Addr, now int64) bool {
	if e, ok := s.files.Load().Lookup(addr); ok {
		e.hits.Add(1)
		return true
	}
	t := s.dyn.Load()
	e, ok := t.Lookup(addr)
	if !ok {
		return false
	}
	if !e.live(now) {
		// Expired, not yet swept: a wider block may still cover addr.
		if e = liveSupernet(t, addr, now); e == nil {
			return false
		}
	}
	e.hits.Add(1)
	return true
}

func liveSupernet(t *bart.Table[*blockEntry], addr netip.Addr, now int64) *blockEntry {
	for _, e := range t.Supernets(netip.PrefixFrom(addr, addr.BitLen())) {
		if e.live(now) {
			return e
		}
	}
	return nil
}

// Block blocks prefix (403 for every request from it) for ttl, recording
// reason and source ("operator", "detector"...). Blocking a blocked prefix
// renews it. ttl is clamped to [MinTTL, MaxTTL], 0 meaning DefaultBlockTTL;
// a prefix wider than /8 (IPv4) or /32 (IPv6) is refused with ErrTooWide.
func (s *Shield) Block(prefix netip.Prefix, ttl time.Duration, reason, source string) (applied mitigation.Mitigation, err error) {
	if ttl == 0 {
		ttl = DefaultBlockTTL
	}
	now := s.now()
	p := normalize(prefix)
	return s.Apply(mitigation.Mitigation{ID: blockID(p), Kind: mitigation.BlockPrefix, Prefix: p,
		Reason: reason, Source: source, Until: now.Add(clampTTL(ttl))})
}

func clampTTL(ttl time.Duration) time.Duration { return min(max(ttl, MinTTL), MaxTTL) }

// clampUntil bounds a mitigation's end: zero means DefaultMitigationTTL.
func clampUntil(until, now time.Time) time.Time {
	if until.IsZero() {
		return now.Add(DefaultMitigationTTL)
	}
	return now.Add(clampTTL(until.Sub(now)))
}

// Unblock lifts the run-time block of exactly prefix and reports whether
// there was one. Blocks from block files stay: edit the file and reload.
func (s *Shield) Unblock(prefix netip.Prefix) bool {
	p := normalize(prefix)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.dyn.Load().Get(p)
	if ok {
		s.removeLocked(e)
	}
	return ok
}

// fileSource returns where a block file lists exactly prefix, "" if none.
func (s *Shield) fileSource(prefix netip.Prefix) string {
	e, ok := s.files.Load().Get(normalize(prefix))
	if !ok {
		return ""
	}
	return e.meta.Load().reason
}

// targetPrefix is m's prefix, normalized, or why it cannot be acted on
// (missing, too wide).
func targetPrefix(m mitigation.Mitigation) (netip.Prefix, error) {
	if !m.Prefix.IsValid() {
		return m.Prefix, fmt.Errorf("%w: %s %q: no prefix", ErrBadMitigation, m.Kind, m.ID)
	}
	p, err := checkWidth(normalize(m.Prefix))
	if err != nil {
		return p, fmt.Errorf("%w: %s %q: %w", ErrBadMitigation, m.Kind, m.ID, err)
	}
	return p, nil
}

// applyBlock adds or renews a block_prefix mitigation.
func (s *Shield) applyBlock(m mitigation.Mitigation, now time.Time) (mitigation.Mitigation, error) {
	p, err := targetPrefix(m)
	if err != nil {
		return m, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.others[m.ID]; ok {
		return m, fmt.Errorf("%w: id %q already names a mitigation of another kind", ErrBadMitigation, m.ID)
	}
	n := now.UnixNano()
	if e, ok := s.dyn.Load().Get(p); ok && e.live(n) {
		if old := s.byID[m.ID]; old != nil && old != e {
			s.removeLocked(old) // the ID moved here from another prefix
		}
		s.renewLocked(e, m)
		return e.view(s.shadow()), nil
	}
	if old := s.byID[m.ID]; old != nil {
		s.removeLocked(old) // the ID moved to another prefix
	}
	if err := s.roomLocked(1, n); err != nil {
		return m, err
	}
	e := s.newEntryLocked(p, m, now)
	s.dyn.Store(s.dyn.Load().InsertPersist(p, e))
	s.logger.Info("block applied", "id", m.ID, "prefix", p, "source", m.Source, "reason", m.Reason, "until", m.Until)
	return e.view(s.shadow()), nil
}

// renewLocked gives e m's ID, reason, source and end.
func (s *Shield) renewLocked(e *blockEntry, m mitigation.Mitigation) {
	if id := e.id(); id != m.ID {
		delete(s.byID, id)
		s.byID[m.ID] = e
	}
	e.meta.Store(&blockMeta{id: m.ID, source: m.Source, reason: m.Reason})
	e.until.Store(m.Until.UnixNano())
}

// newEntryLocked makes the entry for a new block (the caller inserts it).
func (s *Shield) newEntryLocked(p netip.Prefix, m mitigation.Mitigation, now time.Time) *blockEntry {
	e := &blockEntry{prefix: p, since: now.UTC()}
	e.meta.Store(&blockMeta{id: m.ID, source: m.Source, reason: m.Reason})
	e.until.Store(m.Until.UnixNano())
	s.byID[m.ID] = e
	heap.Push(&s.expiry, expiryItem{until: e.until.Load(), e: e})
	return e
}

// roomLocked makes room for n more blocks, sweeping expired ones if full.
func (s *Shield) roomLocked(n int, now int64) error {
	limit := int(s.maxBlocks.Load())
	if s.countLocked()+n <= limit {
		return nil
	}
	s.sweepBlocksLocked(now)
	if have := s.countLocked(); have+n > limit {
		return fmt.Errorf("%w: %d blocks held, %d more would pass shield.max_blocks %d: lift some or raise the bound", ErrBlocklistFull, have, n, limit)
	}
	return nil
}

func (s *Shield) countLocked() int { return s.files.Load().Size() + s.dyn.Load().Size() }

// removeLocked takes e out of the dynamic table.
func (s *Shield) removeLocked(e *blockEntry) {
	if e.removed {
		return
	}
	e.removed = true
	if id := e.id(); s.byID[id] == e {
		delete(s.byID, id)
	}
	t := s.dyn.Load()
	if cur, ok := t.Get(e.prefix); ok && cur == e {
		s.dyn.Store(t.DeletePersist(e.prefix))
	}
}

// sweepBlocksLocked removes the dynamic blocks expired by now. A renewed
// entry's stale expiry item is pushed again with its new end.
func (s *Shield) sweepBlocksLocked(now int64) {
	var expired []*blockEntry
	for len(s.expiry) > 0 && s.expiry[0].until <= now {
		it := heap.Pop(&s.expiry).(expiryItem)
		switch u := it.e.until.Load(); {
		case it.e.removed:
		case u > now:
			heap.Push(&s.expiry, expiryItem{until: u, e: it.e})
		default:
			expired = append(expired, it.e)
		}
	}
	if len(expired) == 0 {
		return
	}
	s.deleteLocked(expired)
	s.logger.Info("blocks expired", "count", len(expired))
	if len(s.expiry) > 2*len(s.byID)+1024 {
		s.expiry = s.expiry.rebuild(s.byID)
	}
}

// deleteLocked removes many entries with one table copy rather than one
// copy-on-write path each.
func (s *Shield) deleteLocked(es []*blockEntry) {
	if len(es) < 16 {
		for _, e := range es {
			s.removeLocked(e)
		}
		return
	}
	t := s.dyn.Load().Clone()
	for _, e := range es {
		if cur, ok := t.Get(e.prefix); ok && cur == e {
			t.Delete(e.prefix)
		}
		e.removed = true
		if id := e.id(); s.byID[id] == e {
			delete(s.byID, id)
		}
	}
	s.dyn.Store(t)
}

// importBlocks blocks every listed prefix until until, all or none.
func (s *Shield) importBlocks(list []Listed, until time.Time, reason, source string) (int, error) {
	now := s.now()
	n := now.UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.dyn.Load()
	fresh := 0
	for _, l := range list {
		if e, ok := t.Get(l.Prefix); !ok || !e.live(n) {
			fresh++
		}
	}
	if err := s.roomLocked(fresh, n); err != nil {
		return 0, err
	}
	t = s.dyn.Load().Clone()
	for _, l := range list {
		m := mitigation.Mitigation{ID: blockID(l.Prefix), Kind: mitigation.BlockPrefix, Prefix: l.Prefix,
			Reason: reasonOr(l.Comment, reason), Source: source, Until: until}
		s.importOneLocked(t, m, now)
	}
	s.dyn.Store(t)
	s.logger.Info("blocks imported", "count", len(list), "source", source, "reason", reason, "until", until)
	return len(list), nil
}

func (s *Shield) importOneLocked(t *bart.Table[*blockEntry], m mitigation.Mitigation, now time.Time) {
	if e, ok := t.Get(m.Prefix); ok && e.live(now.UnixNano()) {
		s.renewLocked(e, m)
		return
	}
	if old := s.byID[m.ID]; old != nil {
		old.removed = true
	}
	t.Insert(m.Prefix, s.newEntryLocked(m.Prefix, m, now))
}

func reasonOr(comment, reason string) string {
	if comment == "" {
		return reason
	}
	return comment
}

// Blocks lists every block in force, from block files and at run time,
// by prefix.
func (s *Shield) Blocks() []mitigation.Mitigation {
	var out []mitigation.Mitigation
	s.eachBlock(func(m mitigation.Mitigation) bool {
		out = append(out, m)
		return true
	})
	return out
}

// eachBlock calls f with each block in force, file blocks first, until f
// returns false. It reads snapshots without the lock, so a slow reader of
// a long list does not hold up the detector.
func (s *Shield) eachBlock(f func(mitigation.Mitigation) bool) {
	now := s.now().UnixNano()
	shadow := s.shadow()
	for _, t := range []*bart.Table[*blockEntry]{s.files.Load(), s.dyn.Load()} {
		for _, e := range t.AllSorted() {
			if e.live(now) && !f(e.view(shadow)) {
				return
			}
		}
	}
}

// readLists reads every block file, at most limit prefixes in all.
func readLists(files []string, limit int) ([][]Listed, error) {
	var (
		out  [][]Listed
		errs []error
	)
	for _, f := range files {
		l, err := readListFile(f, limit)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		limit -= len(l)
		out = append(out, l)
	}
	if len(out) != len(files) {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// fileTable builds the table of file blocks, keeping the hit counts and
// start of prefixes the old table had.
func fileTable(lists [][]Listed, old *bart.Table[*blockEntry], now time.Time) *bart.Table[*blockEntry] {
	t := new(bart.Table[*blockEntry])
	for _, list := range lists {
		for _, l := range list {
			e := &blockEntry{prefix: l.Prefix, since: now.UTC()}
			e.meta.Store(&blockMeta{source: "file", reason: fileReason(l)})
			if o, ok := old.Get(l.Prefix); ok {
				e.since = o.since
				e.hits.Store(o.hits.Load())
			}
			t.Insert(l.Prefix, e)
		}
	}
	return t
}

func fileReason(l Listed) string {
	if l.Comment == "" {
		return fmt.Sprintf("listed in %s:%d", l.File, l.Line)
	}
	return fmt.Sprintf("%s (%s:%d)", l.Comment, l.File, l.Line)
}

// expiryItem is when a dynamic block was last known to end.
type expiryItem struct {
	until int64
	e     *blockEntry
}

// expiryHeap orders dynamic blocks by end, soonest first.
type expiryHeap []expiryItem

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].until < h[j].until }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiryItem)) }
func (h *expiryHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = expiryItem{}
	*h = old[:len(old)-1]
	return it
}

// rebuild drops stale items: one per live entry.
func (h expiryHeap) rebuild(live map[string]*blockEntry) expiryHeap {
	out := make(expiryHeap, 0, len(live))
	for _, e := range live {
		out = append(out, expiryItem{until: e.until.Load(), e: e})
	}
	heap.Init(&out)
	return out
}
