package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// writer appends entries to the chain. It is owned by Open, then by Run's
// goroutine: nothing else touches it.
type writer struct {
	dir      string
	segBytes int64 // rotate past this size
	maxBytes int64 // the bound on all segments together
	now      func() time.Time
	logger   *slog.Logger
	stats    *counters
	keys     *Keys  // the first signs new entries and heads
	headFile string // where the head is published

	// published is the head last written to headFile; headOut shows it to
	// other goroutines (the admin API).
	published Head
	headOut   *atomic.Pointer[Head]

	segs  []segment // oldest first; the last is the current one
	total int64     // bytes in segs
	f     *os.File  // the current segment, nil when closed
	dirty bool      // written since the last fsync
	// rotating is true while rotate or prune runs: the pruned entry they
	// add must not rotate again.
	rotating bool

	seq      uint64 // the chain's head, counting buf
	head     string
	headKey  string // the key of the head entry found on start
	doneSeq  uint64 // the chain's head on disk
	doneHead string
	buf      []byte // encoded, not yet written
	bufReqs  uint64 // requests in buf
	bufLost  uint64 // lost counts carried by gaps in buf
	lost     uint64 // entries lost since the last gap
	lostWhy  string

	lastErrLog time.Time
}

// recover finds the chain's head in dir, repairs a torn tail and returns
// the notes a gap entry must carry, if any.
func (w *writer) recover() (notes []string, fresh bool, err error) {
	segs, err := listSegments(w.dir)
	if err != nil {
		return nil, false, err
	}
	w.segs, w.seq, w.head, w.headKey = segs, 0, ZeroHash, ""
	for _, s := range segs {
		w.total += s.size
	}
	for i := len(segs) - 1; i >= 0; i-- {
		path := filepath.Join(w.dir, segs[i].name)
		t, err := scanTail(path, w.keys)
		if err != nil {
			return nil, false, err
		}
		if t.unknown != nil {
			return nil, false, t.unknown
		}
		if t.fragment >= 0 {
			note, err := w.truncateTorn(i, path, t)
			if err != nil {
				return nil, false, err
			}
			notes = append(notes, note)
		}
		if t.invalid > 0 {
			notes = append(notes, fmt.Sprintf("%s: %d invalid line(s) at the end, left as found", segs[i].name, t.invalid))
			fresh = true
		}
		if t.head != nil {
			w.seq, w.head, w.headKey = t.head.Seq, t.hash, t.head.Key
			break
		}
	}
	w.doneSeq, w.doneHead = w.seq, w.head
	return notes, fresh, nil
}

// truncateTorn cuts the incomplete last line of segment i, a write a crash
// interrupted, and describes what was cut.
func (w *writer) truncateTorn(i int, path string, t tail) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read torn segment: %w", err)
	}
	torn := data[min(t.fragment, int64(len(data))):]
	sum := sha256.Sum256(torn)
	if err := os.Truncate(path, t.fragment); err != nil {
		return "", fmt.Errorf("truncate torn segment: %w", err)
	}
	w.total -= w.segs[i].size - t.fragment
	w.segs[i].size = t.fragment
	note := fmt.Sprintf("%s: torn last line at byte %d cut (%d bytes, sha256 %s)",
		w.segs[i].name, t.fragment, len(torn), hex.EncodeToString(sum[:]))
	w.logger.Warn("evidence: torn last line cut", "file", w.segs[i].name, "offset", t.fragment, "bytes", len(torn))
	return note, nil
}

// open opens the current segment for appending, or starts a new one when
// there is none, it is full, or fresh asks for one.
func (w *writer) open(fresh bool) error {
	if n := len(w.segs); n > 0 && !fresh && w.segs[n-1].size < w.segBytes {
		f, err := os.OpenFile(filepath.Join(w.dir, w.segs[n-1].name), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return fmt.Errorf("open evidence segment: %w", err)
		}
		w.f = f
		return nil
	}
	return w.create()
}

// create starts a new segment named after the clock, always after the last.
func (w *writer) create() error {
	num := w.now().UnixNano()
	if n := len(w.segs); n > 0 && num <= w.segs[n-1].num {
		num = w.segs[n-1].num + 1
	}
	name := segName(num)
	f, err := os.OpenFile(filepath.Join(w.dir, name), os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create evidence segment: %w", err)
	}
	w.f = f
	w.segs = append(w.segs, segment{name: name, num: num})
	return syncDir(w.dir)
}

// add encodes e at the chain's head, first admitting earlier losses with a
// gap entry, and rotates when the current segment is full.
func (w *writer) add(e *Entry) {
	if w.lost > 0 {
		g := &Entry{Time: w.now().UTC(), Kind: KindGap, Lost: w.lost, Note: w.lostWhy}
		w.lost, w.lostWhy = 0, ""
		w.add(g)
	}
	if w.f != nil && !w.rotating && w.segs[len(w.segs)-1].size+int64(len(w.buf)) >= w.segBytes {
		w.rotate()
	}
	e.Seq, e.PrevHash = w.seq+1, w.head
	buf, h, err := appendLine(w.buf, e, w.keys.signer())
	if err != nil {
		w.lose(1, err)
		return
	}
	w.buf, w.seq, w.head = buf, e.Seq, h
	switch e.Kind {
	case KindRequest:
		w.bufReqs++
	case KindGap:
		w.bufLost += e.Lost
	}
}

// flush writes buf to the current segment. On failure the chain goes back
// to its head on disk and the entries count as lost, admitted by a gap
// entry with the next write.
func (w *writer) flush() {
	if len(w.buf) == 0 {
		return
	}
	var err error
	if w.f == nil {
		err = w.create()
	}
	if err == nil {
		var n int
		n, err = w.f.Write(w.buf)
		if err != nil && n > 0 {
			// Cut the partial write, so that the next one starts on a line.
			_ = w.f.Truncate(w.segs[len(w.segs)-1].size)
		}
	}
	if err != nil {
		w.seq, w.head = w.doneSeq, w.doneHead
		w.lose(w.bufReqs+w.bufLost, err)
	} else {
		w.segs[len(w.segs)-1].size += int64(len(w.buf))
		w.total += int64(len(w.buf))
		w.doneSeq, w.doneHead, w.dirty = w.seq, w.head, true
		w.stats.written.Add(w.bufReqs)
	}
	w.buf, w.bufReqs, w.bufLost = w.buf[:0], 0, 0
}

// lose counts n entries lost to err and logs at most once a minute.
func (w *writer) lose(n uint64, err error) {
	w.lost += n
	w.lostWhy = "write failed: " + err.Error()
	w.stats.lost.Add(n)
	w.failed("evidence: write failed, entries lost", "lost", n, "err", err)
}

// failed counts a write error and logs it, at most once a minute.
func (w *writer) failed(msg string, args ...any) {
	w.stats.writeErrors.Add(1)
	if now := time.Now(); now.Sub(w.lastErrLog) >= time.Minute {
		w.lastErrLog = now
		w.logger.Error(msg, args...)
	}
}

// publish writes the head on disk to headFile when it moved since the last
// time, when headRefresh passed, or when force asks. Only what is durable
// is published (nothing while an fsync is due), so that a crash never
// makes the log look truncated against its own head.
func (w *writer) publish(force bool) {
	if w.headFile == "" || w.dirty {
		return
	}
	now := w.now()
	p := &w.published
	if !force && p.Seq == w.doneSeq && p.Hash == w.doneHead && now.Sub(p.Time) < headRefresh {
		return
	}
	h := signHead(w.keys.signer(), w.doneSeq, w.doneHead, now)
	if err := writeHead(w.headFile, h); err != nil {
		w.failed("evidence: head not published", "err", err)
		return
	}
	w.published = h
	w.headOut.Store(&h)
}

// sync makes what was written durable.
func (w *writer) sync() {
	if w.f == nil || !w.dirty {
		return
	}
	if err := w.f.Sync(); err != nil {
		w.logger.Error("evidence: fsync failed", "err", err)
		w.stats.writeErrors.Add(1)
		return
	}
	w.dirty = false
}

// close flushes, syncs and closes the current segment, and publishes the
// head.
func (w *writer) close() error {
	w.flush()
	w.sync()
	w.publish(true)
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	if err != nil {
		return fmt.Errorf("close evidence segment: %w", err)
	}
	return nil
}

// rotate closes the full segment, prunes the oldest ones if the bound asks
// for it, and starts a new segment.
func (w *writer) rotate() {
	w.rotating = true
	defer func() { w.rotating = false }()
	w.prune()
	w.flush()
	w.sync()
	if err := w.f.Close(); err != nil {
		w.logger.Error("evidence: close segment", "err", err)
	}
	w.f = nil
	if err := w.create(); err != nil {
		w.logger.Error("evidence: new segment", "err", err)
		w.stats.writeErrors.Add(1)
	}
}

// prune deletes the oldest segments so that the log, with the segment about
// to start, stays under maxBytes. It first chains a pruned entry naming the
// files and the first entry kept, made durable before anything is deleted.
func (w *writer) prune() {
	victims := 0
	for total := w.total + int64(len(w.buf)) + w.segBytes; total > w.maxBytes && victims < len(w.segs)-1; victims++ {
		total -= w.segs[victims].size
	}
	if victims == 0 {
		return
	}
	was := w.rotating
	w.rotating = true // the pruned entry goes to the current segment, full or not
	defer func() { w.rotating = was }()
	w.flush() // the first kept entry may still be in buf
	names := make([]string, victims)
	for i := range names {
		names[i] = w.segs[i].name
	}
	m := &Entry{Time: w.now().UTC(), Kind: KindPruned, Files: names,
		Note: fmt.Sprintf("size bound %d bytes: the oldest %d file(s) deleted", w.maxBytes, victims)}
	if first, h, err := firstEntry(filepath.Join(w.dir, w.segs[victims].name), w.keys); err == nil {
		m.FirstKeptSeq, m.FirstKeptHash = first.Seq, h
	} else {
		m.Note += "; first kept entry unreadable: " + err.Error()
	}
	w.add(m)
	w.flush()
	w.dirty = true
	w.sync()
	w.removeOldest(victims)
}

// removeOldest deletes the n oldest segments.
func (w *writer) removeOldest(n int) {
	var failed []string
	for _, s := range w.segs[:n] {
		if err := os.Remove(filepath.Join(w.dir, s.name)); err != nil {
			failed = append(failed, s.name)
			continue
		}
		w.total -= s.size
		w.stats.pruned.Add(1)
	}
	if len(failed) > 0 {
		w.logger.Error("evidence: could not delete old segments", "files", strings.Join(failed, ","))
	}
	w.segs = append(w.segs[:0], w.segs[n:]...)
	if err := syncDir(w.dir); err != nil {
		w.logger.Error("evidence: sync dir", "err", err)
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open evidence dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync evidence dir: %w", err)
	}
	return nil
}

// rekeyed returns the key entry that must follow the head found on start
// when it was keyed with another key than the signing one, or written
// before the chain was keyed; nil when the chain is empty or goes on with
// the same key.
func (w *writer) rekeyed() *Entry {
	id := w.keys.signer().ID
	if w.seq == 0 || w.headKey == id {
		return nil
	}
	before := "key " + w.headKey
	if w.headKey == "" {
		before = "no key (a plain SHA-256: written before the chain was keyed)"
	}
	return &Entry{Kind: KindKey, Note: fmt.Sprintf("entries from here on are keyed with key %s; the entries before, with %s", id, before)}
}
