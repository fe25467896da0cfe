package evidence

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/telemetry"
)

// Bounds on segment files and on the writer's batches.
const (
	maxSegmentBytes = 64 << 20
	minSegmentBytes = 4 << 10
	maxBatch        = 256
)

// ErrNoDir is returned by Open when the configuration names no directory:
// evidence is off.
var ErrNoDir = errors.New("evidence: no directory configured (shield.evidence.dir)")

var _ telemetry.Consumer = (*Log)(nil)

// Log samples refused and mitigated requests into the hash-chained log in
// a directory. Observe is safe for concurrent use; Run writes.
type Log struct {
	rate    float64        // fraction of candidates kept
	rand    func() float64 // in [0, 1)
	ch      chan *Entry    // to Run
	verdict atomic.Pointer[string]
	redact  *redactor
	head    atomic.Pointer[Head] // the last published

	mu        sync.Mutex // guards tokens and last
	tokens    float64
	last      time.Time
	perSecond float64

	w     *writer // owned by Open, then by Run
	fresh bool    // Run must start a new segment
	stats counters
}

// counters are Log's statistics, updated with atomics.
type counters struct {
	sampled, droppedCap, droppedFull   atomic.Uint64
	written, lost, writeErrors, pruned atomic.Uint64
}

// Stats are a Log's counters since Open.
type Stats struct {
	Sampled     uint64 // requests chosen by the sample rate and queued
	DroppedCap  uint64 // chosen but over the per-second cap
	DroppedFull uint64 // chosen but the queue to the writer was full
	Written     uint64 // request entries written to a segment
	Lost        uint64 // entries lost to write errors (admitted by gap entries)
	WriteErrors uint64 // failed writes, fsyncs and segment creations
	Pruned      uint64 // segment files deleted by the size bound
}

// Open prepares the log in cfg.Dir: it reads the chain key from
// cfg.KeyFile (writing a new one there if there is none), finds the chain's
// head, cuts a torn last line a crash left and admits it with a gap entry,
// and publishes the head to cfg.HeadFile. Zero fields of cfg take the
// defaults of config.Evidence.Defaults. now is the clock for file names,
// markers and heads; nil means time.Now.
func Open(cfg config.Evidence, logger *slog.Logger, now func() time.Time) (*Log, error) {
	if cfg.Dir == "" {
		return nil, ErrNoDir
	}
	if err := validate(cfg); err != nil {
		return nil, err
	}
	cfg.Defaults()
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	for _, d := range []string{cfg.Dir, filepath.Dir(cfg.HeadFile)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("create evidence dir: %w", err)
		}
	}
	keys, secret, err := openKeys(cfg.KeyFile)
	if err != nil {
		return nil, err
	}
	l := &Log{rate: cfg.SampleRate, rand: rand.Float64, perSecond: float64(cfg.PerSecond),
		ch: make(chan *Entry, min(max(2*cfg.PerSecond, 64), 8192)), redact: newRedactor(keys.signer(), cfg.Redact)}
	l.w = &writer{dir: cfg.Dir, maxBytes: int64(cfg.MaxBytes), now: now, logger: logger, stats: &l.stats,
		segBytes: min(max(int64(cfg.MaxBytes)/4, minSegmentBytes), maxSegmentBytes),
		keys:     keys, headFile: cfg.HeadFile, headOut: &l.head}
	if err := l.resume(cfg.KeyFile, secret); err != nil {
		return nil, err
	}
	return l, nil
}

// resume finds where the chain stands, writes the new key file (secret,
// when there was none) once the chain proved it can go on with it, admits
// what recovery found and publishes the head.
func (l *Log) resume(keyFile string, secret []byte) error {
	w := l.w
	notes, fresh, err := w.recover()
	if err != nil {
		return fmt.Errorf("open evidence log: %w (key file %s holds keys %v)", err, keyFile, w.keys.IDs())
	}
	if secret != nil {
		if err := createKeyFile(keyFile, secret); err != nil {
			return err
		}
		w.logger.Warn("evidence: no key file: wrote a new chain key; keep it, verify needs it",
			"key_file", keyFile, "key", w.keys.signer().ID)
	}
	l.fresh = fresh
	var markers []*Entry
	if len(notes) > 0 {
		markers = append(markers, &Entry{Kind: KindGap, Note: joinNotes(notes)})
	}
	if m := w.rekeyed(); m != nil {
		markers = append(markers, m)
	}
	if len(markers) == 0 {
		w.publish(true)
		return nil
	}
	return l.admit(markers) // publishes on close
}

// openKeys reads the key file at path. When there is none it returns new
// keys and their secret, for Open to write once the log proved it can go
// on with them (a log keyed with a lost key must not get a new key file).
func openKeys(path string) (*Keys, []byte, error) {
	keys, err := LoadKeys(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return keys, nil, err
	}
	secret := newSecret()
	keys, err = NewKeys(secret)
	return keys, secret, err
}

func validate(cfg config.Evidence) error {
	switch {
	case cfg.SampleRate < 0 || cfg.SampleRate > 1:
		return fmt.Errorf("shield.evidence.sample_rate %v: want a fraction from 0 to 1", cfg.SampleRate)
	case cfg.PerSecond < 0:
		return fmt.Errorf("shield.evidence.per_second %d: want 0 (default 100) or more", cfg.PerSecond)
	case cfg.MaxBytes < 0:
		return fmt.Errorf("shield.evidence.max_bytes %d: want 0 (default 1GiB) or more", cfg.MaxBytes)
	}
	return nil
}

// admit writes, durably, the markers Open found necessary: a gap entry
// carrying what recovery found, a key entry for a new key.
func (l *Log) admit(markers []*Entry) error {
	w := l.w
	if err := w.open(l.fresh); err != nil {
		return err
	}
	l.fresh = false
	for _, m := range markers {
		m.Time = w.now().UTC()
		w.add(m)
	}
	w.flush()
	w.dirty = true
	if err := w.close(); err != nil {
		return err
	}
	if w.lost > 0 {
		return fmt.Errorf("open evidence log: %s", w.lostWhy)
	}
	return nil
}

func joinNotes(notes []string) string {
	s := "on start: "
	for i, n := range notes {
		if i > 0 {
			s += "; "
		}
		s += n
	}
	return s
}

// SetVerdict stamps v, the detector's current verdict, on the entries
// sampled from now on.
func (l *Log) SetVerdict(v string) { l.verdict.Store(&v) }

func (l *Log) verdictNow() string {
	if v := l.verdict.Load(); v != nil {
		return *v
	}
	return ""
}

// Observe samples a finished request (telemetry.Consumer). It keeps only
// refused or mitigated requests, SampleRate of them, at most PerSecond a
// second, and never blocks: when the writer is behind, the entry is dropped
// and counted.
func (l *Log) Observe(rec *telemetry.Record, r *http.Request, now time.Time) {
	if rec.Action == "" && rec.Outcome != telemetry.OutcomeRefused {
		return
	}
	if l.rate < 1 && l.rand() >= l.rate {
		return
	}
	if !l.allow(now) {
		l.stats.droppedCap.Add(1)
		return
	}
	select {
	case l.ch <- buildEntry(rec, r, l.verdictNow(), l.redact):
		l.stats.sampled.Add(1)
	default:
		l.stats.droppedFull.Add(1)
	}
}

// allow takes a token from the per-second bucket (burst: one second's worth).
func (l *Log) allow(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.last.IsZero():
		l.tokens = l.perSecond
		l.last = now
	case now.After(l.last):
		l.tokens = min(l.perSecond, l.tokens+now.Sub(l.last).Seconds()*l.perSecond)
		l.last = now
	}
	if l.tokens < 1 {
		return false
	}
	l.tokens--
	return true
}

// Head returns the chain's head as last published, and false when none
// was (the head file could not be written) or l is nil (evidence is off).
func (l *Log) Head() (Head, bool) {
	if l == nil {
		return Head{}, false
	}
	if h := l.head.Load(); h != nil {
		return *h, true
	}
	return Head{}, false
}

// Stats returns the log's counters.
func (l *Log) Stats() Stats {
	s := &l.stats
	return Stats{Sampled: s.sampled.Load(), DroppedCap: s.droppedCap.Load(), DroppedFull: s.droppedFull.Load(),
		Written: s.written.Load(), Lost: s.lost.Load(), WriteErrors: s.writeErrors.Load(), Pruned: s.pruned.Load()}
}

// Run writes queued entries until ctx is done, in batches, syncing to disk
// every second and rotating and pruning files as they fill; then it writes
// what is still queued and returns. Write errors do not stop it: they are
// logged, counted in Stats and admitted in the chain by a gap entry. Call it
// once.
func (l *Log) Run(ctx context.Context) error {
	w := l.w
	if err := w.open(l.fresh); err != nil {
		return err
	}
	w.prune()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			l.drain(len(l.ch))
			return w.close()
		case e := <-l.ch:
			w.add(e)
			l.drain(maxBatch - 1)
		case <-tick.C:
			w.sync()
			w.publish(false)
		}
	}
}

// drain adds up to n more queued entries without waiting, then writes.
func (l *Log) drain(n int) {
	for range n {
		select {
		case e := <-l.ch:
			l.w.add(e)
		default:
			l.w.flush()
			return
		}
	}
	l.w.flush()
}
