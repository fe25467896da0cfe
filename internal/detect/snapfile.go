package detect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Defaults for the baseline snapshot's zero values (config fills the same).
const (
	defaultBaselineEvery  = time.Minute
	defaultBaselineMaxAge = 24 * time.Hour
	// snapshotSkew is how far ahead of this clock a snapshot's time may
	// be (another machine's clock, a small step back) and still load.
	snapshotSkew = time.Minute
)

// restoreBaseline loads the snapshot at cfg.BaselineFile, if there is one
// fit to load; otherwise the detector starts cold and says why.
func (d *Detector) restoreBaseline() {
	path := d.cfg.BaselineFile
	removeTemps(path)
	now := d.now()
	b, saved, err := readSnapshot(path, d.cfg.Baseline.Seconds(), now, d.cfg.BaselineMaxAge)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		d.log.Info("detect: no baseline snapshot yet; learning from cold", "file", path)
	case err != nil:
		d.log.Warn("detect: baseline snapshot refused; learning from cold", "file", path, "err", err,
			"fix", snapshotFix(err))
	default:
		d.base, d.learnedN, d.learnedAt = b, b.n, saved
		d.log.Info("detect: baseline loaded", "file", path, "age", now.Sub(saved).Round(time.Second),
			"learned_seconds", b.n, "warm", b.warm(), "fingerprints", len(b.fp), "paths", len(b.path))
	}
}

// readSnapshot reads and checks the snapshot at path: whole, of this
// version, saved at most maxAge before now and not after it.
func readSnapshot(path string, halfLife float64, now time.Time, maxAge time.Duration) (*baseline, time.Time, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("open baseline snapshot: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, int64(snapshotMaxSize)+1)) // one more: oversized is refused
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("read baseline snapshot: %w", err)
	}
	b, saved, err := decodeBaseline(data, halfLife)
	if err != nil {
		return nil, time.Time{}, err
	}
	switch age := now.Sub(saved); {
	case age < -snapshotSkew:
		return nil, time.Time{}, fmt.Errorf("%w: saved at %s, %s ahead of this clock",
			ErrSnapshotFuture, saved.UTC().Format(time.RFC3339), (-age).Round(time.Second))
	case age > maxAge:
		return nil, time.Time{}, fmt.Errorf("%w: saved at %s, %s ago, past baseline_max_age (%s)",
			ErrSnapshotStale, saved.UTC().Format(time.RFC3339), age.Round(time.Second), maxAge)
	}
	return b, saved, nil
}

// snapshotFix tells the operator what to do about a refused snapshot.
func snapshotFix(err error) string {
	const replaced = "the next save replaces it"
	switch {
	case errors.Is(err, ErrSnapshotStale):
		return replaced + "; raise shield.detect.baseline_max_age to load older ones"
	case errors.Is(err, ErrSnapshotFuture):
		return "check the system clock (or the file came from another machine); " + replaced
	case errors.Is(err, ErrSnapshotVersion):
		return "written by another rempart version; " + replaced
	case errors.Is(err, ErrSnapshotCorrupt):
		return "damaged or not a baseline snapshot; " + replaced + " (move it away first to keep it)"
	}
	return "make shield.detect.baseline_file readable and writable by rempart"
}

// SaveBaseline writes the learned baseline to shield.detect.baseline_file,
// atomically: a temporary file in the same directory, synced, renamed over
// the old one, the directory synced. It writes nothing without a file or
// while nothing has been learned (a cold start under attack must not
// replace a snapshot with an empty baseline). The time saved with it is
// when it last learned, as of the previous save: a baseline that stopped
// learning ages on disk as it would in memory.
func (d *Detector) SaveBaseline() error {
	path := d.cfg.BaselineFile
	if path == "" {
		return nil
	}
	d.saveMu.Lock()
	defer d.saveMu.Unlock()
	d.tickMu.Lock()
	if d.base.n == 0 {
		d.tickMu.Unlock()
		return nil
	}
	if d.base.n != d.learnedN {
		d.learnedN, d.learnedAt = d.base.n, d.now()
	}
	data := encodeBaseline(d.base, d.learnedAt)
	d.tickMu.Unlock()
	if err := writeAtomic(path, data); err != nil {
		return fmt.Errorf("save baseline to %s: %w", path, err)
	}
	return nil
}

// keepBaseline saves the baseline every BaselineEvery and, once ctx is
// done, a last time after the last tick (ticked closes then), and returns;
// Run owns it and waits for it. A failing save is logged when it starts
// failing and when it recovers, not every time.
func (d *Detector) keepBaseline(ctx context.Context, ticked <-chan struct{}) {
	t := time.NewTicker(d.cfg.BaselineEvery)
	defer t.Stop()
	failing := false
	for {
		stop := false
		select {
		case <-ctx.Done():
			<-ticked
			stop = true
		case <-t.C:
		}
		err := d.SaveBaseline()
		switch {
		case err != nil && !failing:
			d.log.Error("detect: save baseline", "err", err,
				"fix", "let rempart write shield.detect.baseline_file and its directory")
		case err == nil && failing:
			d.log.Info("detect: baseline saved again", "file", d.cfg.BaselineFile)
		}
		failing = err != nil
		if stop {
			return
		}
	}
}

// writeAtomic replaces path with data so that a crash leaves either the
// old file or the new one, never a part.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, tempPrefix(path)+"*")
	if err != nil {
		return fmt.Errorf("create temporary file: %w", err)
	}
	defer func() {
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("rename temporary file: %w", err)
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// tempPrefix starts the names of path's temporary files: hidden, beside it.
func tempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }

// removeTemps deletes temporary files a crash left beside path.
func removeTemps(path string) {
	dir, prefix := filepath.Dir(path), tempPrefix(path)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) && e.Type().IsRegular() {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
