package detect

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"math"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/mitigation"
	"github.com/rempart/rempart/internal/telemetry"
)

// The crowd learned before a restart: viewers joining 5 a second for 30 s,
// then 30 s of steady watching, each posting a heartbeat every second (an
// API the player calls: expensive, and far above the login flood's
// absolute floor once the crowd is there).
const (
	crowdJoinFor = 30
	crowdLearn   = 60
)

func crowd(upTo int) (*viewers, *heartbeats) {
	v := &viewers{base: viewerBase, joins: func(sec int) int {
		if sec < crowdJoinFor {
			return 5
		}
		return 0
	}}
	for sec := range upTo {
		for range v.joins(sec) {
			v.joined = append(v.joined, sec)
		}
	}
	return v, &heartbeats{v: v}
}

// heartbeats: every viewer joined posts one heartbeat a second.
type heartbeats struct{ v *viewers }

func (h *heartbeats) second(w *world) {
	r := request("POST", "/api/heartbeat", "", viewerHeader)
	for i := range h.v.joined {
		w.conn = i
		w.observe(h.v.addr(i), telemetry.ClassAPI, telemetry.OutcomePass, 204, r)
	}
	w.conn = 0
}

func snapshotConfig(file string) config.Detect {
	return config.Detect{Interval: time.Second, Baseline: 10 * time.Minute, MitigationTTL: 2 * time.Minute,
		FalsePositiveBudget: 0.01, BaselineFile: file}
}

// fileWorld is a world at second sec of the crowd whose detector starts
// with file, logging into log (nil: discarded).
func fileWorld(t testing.TB, file string, sec int, log *bytes.Buffer) *world {
	w := newWorld(t)
	w.now, w.sec = w.now.Add(time.Duration(sec)*time.Second), sec
	var logger *slog.Logger
	if log != nil {
		logger = slog.New(slog.NewTextHandler(log, nil))
	}
	w.d = New(snapshotConfig(file), w.act, logger, func() time.Time { return w.now })
	v, h := crowd(sec)
	w.pops = append(w.pops, v, h)
	return w
}

// learnedCrowd learns the crowd and saves its baseline to a file.
func learnedCrowd(t *testing.T) (*world, string) {
	file := filepath.Join(t.TempDir(), "baseline.bin")
	w := fileWorld(t, file, 0, nil)
	w.run(crowdLearn)
	if st := w.d.Status(); st.Verdict != Normal || len(w.act.applied) > 0 {
		t.Fatalf("learning: verdict %s, %d mitigations, want normal and none", st.Verdict, len(w.act.applied))
	}
	if err := w.d.SaveBaseline(); err != nil {
		t.Fatal(err)
	}
	return w, file
}

func TestSnapshotRoundTrip(t *testing.T) {
	w, file := learnedCrowd(t)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	b, saved, err := decodeBaseline(data, w.d.base.halfLife)
	if err != nil {
		t.Fatal(err)
	}
	if !saved.Equal(w.now) || !reflect.DeepEqual(b, w.d.base) {
		t.Fatalf("decoded baseline (saved %s) differs from the learned one (at %s)", saved, w.now)
	}
	t.Logf("snapshot of %d learned seconds: %d bytes, %d fingerprints, %d paths", b.n, len(data), len(b.fp), len(b.path))

	// The same bots, at the same time, judged by the detector that learned
	// and by one restarted from its snapshot: the same verdict, attacks
	// and decisions.
	r := fileWorld(t, file, crowdLearn, nil)
	for _, x := range []*world{w, r} {
		bot := request("GET", "/live/master.m3u8", "", viewerHeader)
		x.pops = append(x.pops, &attacker{sources: sources([2]byte{100, 64}, 3000), rate: 1, on: true,
			emit: func(w *world, s netip.Addr) { w.observe(s, telemetry.ClassMaster, telemetry.OutcomeHit, 200, bot) }})
	}
	for range 3 {
		w.step()
		r.step()
		a, b := w.d.Status(), r.d.Status()
		if a.Verdict != b.Verdict || !reflect.DeepEqual(a.Attacks, b.Attacks) || !reflect.DeepEqual(a.Decisions, b.Decisions) ||
			a.Evidence.BaselineRate != b.Evidence.BaselineRate || a.Evidence.Learned != b.Evidence.Learned {
			t.Fatalf("second %d: learned judged %s %+v %+v,\nrestored judged %s %+v %+v",
				w.sec, a.Verdict, a.Attacks, a.Decisions, b.Verdict, b.Attacks, b.Decisions)
		}
	}
	if !hasAttack(r.d.Status(), Botnet) {
		t.Fatalf("restored detector missed the botnet: %+v", r.d.Status())
	}
}

// TestRestartedDetectorKnowsTheCrowd: restarted from its snapshot, the
// detector treats the learned crowd as normal from its first tick, in this
// process and in another one (path keys are seeded per process); a cold
// detector reads the crowd's own API as a flood (and, having no baseline,
// takes no shed for it).
func TestRestartedDetectorKnowsTheCrowd(t *testing.T) {
	_, file := learnedCrowd(t)
	t.Run("cold", func(t *testing.T) {
		w := fileWorld(t, filepath.Join(t.TempDir(), "none.bin"), crowdLearn, nil)
		w.run(3)
		// It reads the crowd's heartbeats as a login flood (the contrast
		// this test rests on), but takes no shed on a cold baseline.
		st := w.d.Status()
		if !hasAttack(st, LoginFlood) || w.act.kinds()[mitigation.ShedRoute] != 0 || w.d.Stats().ColdStart.Load() == 0 {
			t.Fatalf("a cold detector reads the crowd's heartbeats as a login flood and sheds nothing; mitigations %v, status %+v",
				w.act.kinds(), st)
		}
	})
	t.Run("restored", func(t *testing.T) { checkRestored(t, file) })
	t.Run("restored in another process", func(t *testing.T) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSnapshotChild$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "REMPART_DETECT_SNAPSHOT="+file)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestSnapshotChild") {
			t.Fatalf("child: %v\n%s", err, out)
		}
	})
}

// TestSnapshotChild is the other process of TestRestartedDetectorKnowsTheCrowd.
func TestSnapshotChild(t *testing.T) {
	file := os.Getenv("REMPART_DETECT_SNAPSHOT")
	if file == "" {
		t.Skip("run by TestRestartedDetectorKnowsTheCrowd")
	}
	checkRestored(t, file)
}

func checkRestored(t *testing.T, file string) {
	var log bytes.Buffer
	w := fileWorld(t, file, crowdLearn, &log)
	if !strings.Contains(log.String(), "baseline loaded") || !w.d.base.warm() {
		t.Fatalf("snapshot not loaded warm: %s", log.String())
	}
	if w.d.base.path[stringHash("/api/heartbeat")] < 50 {
		t.Fatalf("the heartbeats' baseline is lost: paths %v", w.d.base.pathName)
	}
	for range 5 {
		w.step()
		st := w.d.Status()
		if st.Verdict != Normal || len(st.Pending) > 0 || st.Reason == "learning the baseline" || len(w.act.applied) > 0 {
			t.Fatalf("second %d after the restart: verdict %s (%s), pending %v, applied %v",
				w.sec-crowdLearn, st.Verdict, st.Reason, st.Pending, w.act.applied)
		}
	}
}

// snapshotBytes returns a valid snapshot of a small learned baseline.
func snapshotBytes(t testing.TB, saved time.Time) []byte {
	w := newWorld(t)
	v, h := crowd(crowdJoinFor)
	w.pops = append(w.pops, v, h)
	w.run(12)
	return encodeBaseline(w.d.base, saved)
}

// reseal recomputes a snapshot's checksum after an edit.
func reseal(data []byte) []byte {
	body := data[:len(data)-4]
	binary.LittleEndian.PutUint32(data[len(data)-4:], crc32.Checksum(body, snapshotCRC))
	return data
}

func TestSnapshotRefused(t *testing.T) {
	now := time.Date(2026, 6, 14, 20, 0, 0, 0, time.UTC)
	good := snapshotBytes(t, now)
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	firstFloat := snapshotHeader
	tests := []struct {
		name string
		data []byte
		want error // nil: not a snapshot problem (an I/O error)
		log  string
	}{
		{"flipped byte", edit(func(b []byte) []byte { b[len(b)/2] ^= 0x40; return b }), ErrSnapshotCorrupt, "checksum mismatch"},
		{"truncated", good[:len(good)/2], ErrSnapshotCorrupt, "checksum mismatch"},
		{"empty", nil, ErrSnapshotCorrupt, "not a baseline snapshot"},
		{"text", []byte("rate: 12\n"), ErrSnapshotCorrupt, "not a baseline snapshot"},
		{"oversized", append(bytes.Clone(good), make([]byte, snapshotMaxSize)...), ErrSnapshotCorrupt, "more than any snapshot"},
		{"trailing bytes", edit(func(b []byte) []byte { return reseal(append(b[:len(b)-4], 0, 0, 0, 0, 0)) }), ErrSnapshotCorrupt, "bytes after the paths"},
		{"not a number", edit(func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[firstFloat:], math.Float64bits(math.NaN()))
			return reseal(b)
		}), ErrSnapshotCorrupt, "baseline value 0 is NaN"},
		{"version 2", edit(func(b []byte) []byte { b[4] = 2; return b }), ErrSnapshotVersion, "version 2, this rempart reads version 1"},
		{"sketch shape", edit(func(b []byte) []byte { b[6]++; return reseal(b) }), ErrSnapshotVersion, "sketch 5×4096"},
		{"stale", snapshotBytes(t, now.Add(-25*time.Hour)), ErrSnapshotStale, "past baseline_max_age (24h0m0s)"},
		{"future", snapshotBytes(t, now.Add(time.Hour)), ErrSnapshotFuture, "1h0m0s ahead of this clock"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "baseline.bin")
			if err := os.WriteFile(file, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err := readSnapshot(file, 600, now, defaultBaselineMaxAge)
			if !errors.Is(err, tt.want) {
				t.Fatalf("readSnapshot: %v, want %v", err, tt.want)
			}
			var log bytes.Buffer
			d := New(snapshotConfig(file), newFakeActuator(), slog.New(slog.NewTextHandler(&log, nil)), func() time.Time { return now })
			line := log.String()
			if d.base.n != 0 || !strings.Contains(line, "level=WARN") || !strings.Contains(line, "refused; learning from cold") ||
				!strings.Contains(line, file) || !strings.Contains(line, tt.log) || !strings.Contains(line, "fix=") {
				t.Errorf("learned %d seconds; log %q, want a warning naming %s, %q and a fix", d.base.n, line, file, tt.log)
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		var log bytes.Buffer
		d := New(snapshotConfig(filepath.Join(t.TempDir(), "none.bin")), newFakeActuator(),
			slog.New(slog.NewTextHandler(&log, nil)), func() time.Time { return now })
		if d.base.n != 0 || !strings.Contains(log.String(), "level=INFO msg=\"detect: no baseline snapshot yet") {
			t.Errorf("learned %d seconds; log %q", d.base.n, log.String())
		}
	})
	t.Run("unreadable", func(t *testing.T) {
		var log bytes.Buffer
		d := New(snapshotConfig(t.TempDir()), newFakeActuator(), slog.New(slog.NewTextHandler(&log, nil)), func() time.Time { return now })
		if d.base.n != 0 || !strings.Contains(log.String(), "make shield.detect.baseline_file readable") {
			t.Errorf("learned %d seconds; log %q", d.base.n, log.String())
		}
	})
}

// TestSnapshotAges: saving again a baseline that learned nothing since
// keeps its time, so a detector that only saw attacks does not pass an old
// baseline off as new.
func TestSnapshotAges(t *testing.T) {
	file := filepath.Join(t.TempDir(), "baseline.bin")
	w := fileWorld(t, file, 0, nil)
	w.run(12)
	learned := w.now
	if err := w.d.SaveBaseline(); err != nil {
		t.Fatal(err)
	}
	w.now = w.now.Add(23 * time.Hour) // no tick: nothing learned
	if err := w.d.SaveBaseline(); err != nil {
		t.Fatal(err)
	}
	_, saved, err := readSnapshot(file, 600, w.now, defaultBaselineMaxAge)
	if err != nil || !saved.Equal(learned) {
		t.Fatalf("saved at %s (%v), want %s", saved, err, learned)
	}
	if _, _, err := readSnapshot(file, 600, w.now.Add(2*time.Hour), defaultBaselineMaxAge); !errors.Is(err, ErrSnapshotStale) {
		t.Fatalf("25 h after it learned: %v, want stale", err)
	}
}

func TestSnapshotNothingLearnedNotSaved(t *testing.T) {
	file := filepath.Join(t.TempDir(), "baseline.bin")
	d := New(snapshotConfig(file), newFakeActuator(), nil, nil)
	if err := d.SaveBaseline(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("an empty baseline was saved: %v", err)
	}
}

// TestSnapshotWriter: Run saves every BaselineEvery and once more when it
// stops, and leaves no temporary file behind.
func TestSnapshotWriter(t *testing.T) {
	learned := func(t *testing.T, file string) int {
		data, err := os.ReadFile(file)
		if err != nil {
			return -1
		}
		b, _, err := decodeBaseline(data, 600)
		if err != nil {
			t.Fatalf("saved snapshot: %v", err)
		}
		return b.n
	}
	run := func(t *testing.T, every time.Duration, until func(d *Detector, file string) bool) (*Detector, string) {
		file := filepath.Join(t.TempDir(), "baseline.bin")
		cfg := snapshotConfig(file)
		cfg.Interval, cfg.BaselineEvery = 2*time.Millisecond, every
		d := New(cfg, newFakeActuator(), nil, nil)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- d.Run(ctx) }()
		for deadline := time.Now().Add(10 * time.Second); !until(d, file); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("timed out")
			}
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		return d, file
	}
	t.Run("periodic", func(t *testing.T) {
		first := -1
		run(t, 10*time.Millisecond, func(_ *Detector, file string) bool {
			n := learned(t, file)
			if first < 0 {
				first = n
			}
			return first > 0 && n > first
		})
	})
	t.Run("on stop", func(t *testing.T) {
		d, file := run(t, time.Hour, func(d *Detector, file string) bool {
			if n := learned(t, file); n >= 0 {
				t.Fatalf("saved before the hour: %d seconds", n)
			}
			return d.Stats().Ticks.Load() >= 3
		})
		if n := learned(t, file); n != d.base.n || n < 3 {
			t.Fatalf("saved %d seconds on stop, learned %d", n, d.base.n)
		}
		if left, _ := filepath.Glob(filepath.Join(filepath.Dir(file), ".*")); len(left) > 0 {
			t.Fatalf("temporary files left: %v", left)
		}
	})
}

// TestSnapshotSizeAtCaps: a baseline at every cap fits snapshotMaxSize
// (well under 1 MB) and reads back whole.
func TestSnapshotSizeAtCaps(t *testing.T) {
	b := newBaseline(600)
	b.n, b.nRate, b.rate, b.player = 1<<20, 1<<19, 1e5, 0.9
	for i := range b.legit {
		b.legit[i] = float32(i)
	}
	for i := range maxBaselineKeys {
		b.fp[uint64(i)*0x9e3779b97f4a7c15] = float64(i)
		name := fmt.Sprintf("/%04d", i) + strings.Repeat("x", maxPathName-5)
		k := stringHash(name)
		b.path[k], b.pathName[k] = float64(i)+0.5, name
	}
	data := encodeBaseline(b, time.Unix(1e9, 0))
	if len(data) != snapshotMaxSize || len(data) >= 1e6 {
		t.Fatalf("snapshot at the caps: %d bytes, snapshotMaxSize %d", len(data), snapshotMaxSize)
	}
	got, _, err := decodeBaseline(data, 600)
	if err != nil || !reflect.DeepEqual(got, b) {
		t.Fatalf("decode at the caps: %v", err)
	}
}

// TestPathNamesBounded: the baseline names only the paths it keeps, and
// not those too long to save.
func TestPathNamesBounded(t *testing.T) {
	w := newWorld(t)
	w.d = New(config.Detect{Baseline: time.Second}, w.act, nil, func() time.Time { return w.now }) // forgets fast
	long := "/" + strings.Repeat("a", maxPathName)
	w.pops = append(w.pops, &attacker{sources: sources([2]byte{10, 9}, 2), rate: 3, on: true,
		emit: func(w *world, s netip.Addr) {
			w.observe(s, telemetry.ClassAPI, telemetry.OutcomePass, 200, request("GET", "/api/a", "", viewerHeader))
			w.observe(s, telemetry.ClassAPI, telemetry.OutcomePass, 200, request("GET", long, "", viewerHeader))
		}})
	w.run(5)
	b := w.d.base
	if _, ok := b.path[stringHash(long)]; !ok || len(b.pathName) != 1 || b.pathName[stringHash("/api/a")] != "/api/a" {
		t.Fatalf("names %v of %d paths", b.pathName, len(b.path))
	}
	w.pops = nil
	w.run(30) // the paths decay out of the baseline, and their names with them
	if len(b.path) != 0 || len(b.pathName) != 0 {
		t.Fatalf("after the paths stopped: %d paths, names %v", len(b.path), b.pathName)
	}
}

// TestSnapshotFormatPinned fails when what the snapshot holds may have
// changed: the baseline's fields, telemetry's classes or the caps. If the
// layout changed, bump snapshotVersion; then update want.
func TestSnapshotFormatPinned(t *testing.T) {
	var fields, classes []string
	for _, f := range reflect.VisibleFields(reflect.TypeFor[baseline]()) {
		fields = append(fields, f.Name+" "+f.Type.String())
	}
	for c := range telemetry.NumClasses {
		classes = append(classes, c.String())
	}
	got := fmt.Sprintf("v%d sketch %d×%d keys %d names %d classes %s fields %s", snapshotVersion, cmsDepth, cmsWidth,
		maxBaselineKeys, maxPathName, strings.Join(classes, ","), strings.Join(fields, ", "))
	const want = "v1 sketch 4×4096 keys 1024 names 256 " +
		"classes unknown,master_playlist,media_playlist,segment,ondemand,api " +
		"fields halfLife float64, n int, nRate int, rate float64, player float64, heavy float64, guard float64, " +
		"errRatio float64, hitLat float64, missLat float64, fp map[uint64]float64, path map[uint64]float64, " +
		"pathName map[uint64]string, legit detect.cmsF, legitN float64, legitQuery [6]float64"
	if got != want {
		t.Fatalf("the snapshot's contents changed: bump snapshotVersion if its layout did, then pin\n%s", got)
	}
}

// sketchAt is where the count-min sketch starts in a snapshot, and
// sketchBytes its length.
const (
	sketchAt    = snapshotHeader + 8*snapshotFloats + 8*int(telemetry.NumClasses)
	sketchBytes = 4 * cmsDepth * cmsWidth
)

// FuzzDecodeBaseline: no input panics the decoder, and whatever it accepts
// it writes back byte for byte (the format has one spelling). The input is
// a snapshot's head and tail around a zero sketch with one cell set (a
// whole input of 64 KiB makes the fuzzer minimise for minutes), or head
// alone; with fix set, the checksum is made right, so the fuzzer reaches
// the body.
func FuzzDecodeBaseline(f *testing.F) {
	add := func(data []byte, fix bool) {
		f.Add(data[:sketchAt], data[sketchAt+sketchBytes:], uint16(0), uint32(0), false, fix)
	}
	good := snapshotBytes(f, time.Unix(1.7e9, 0))
	clear(good[sketchAt : sketchAt+sketchBytes])
	add(reseal(good), false)
	add(good[:len(good)-9], true)
	small := newBaseline(600)
	small.n, small.nRate, small.rate = 3, 2, 10
	small.fp[7], small.fp[1] = 0.5, 2
	small.path[stringHash("/a")], small.pathName[stringHash("/a")] = 1, "/a"
	small.path[stringHash("/b")], small.pathName[stringHash("/b")] = 2, "/b"
	add(encodeBaseline(small, time.Unix(0, 1)), false)
	f.Add([]byte(snapshotMagic+"\x01\x00"), []byte{}, uint16(0), uint32(0), true, false)
	f.Add([]byte{}, []byte{}, uint16(0), uint32(0), true, false)
	f.Fuzz(func(t *testing.T, head, tail []byte, cell uint16, bits uint32, alone, fix bool) {
		data := head
		if !alone {
			sketch := make([]byte, sketchBytes)
			binary.LittleEndian.PutUint32(sketch[4*(int(cell)%(cmsDepth*cmsWidth)):], bits)
			data = slices.Concat(head, sketch, tail)
		}
		if fix && len(data) >= snapshotHeader {
			data = reseal(bytes.Clone(data))
		}
		decodeCanonical(t, data)
	})
}

// decodeCanonical decodes data and, if it is accepted, checks that it
// writes back the same bytes within the caps.
func decodeCanonical(t *testing.T, data []byte) {
	b, saved, err := decodeBaseline(data, 600)
	if err != nil {
		if !errors.Is(err, ErrSnapshotCorrupt) && !errors.Is(err, ErrSnapshotVersion) {
			t.Fatalf("error %v wraps no sentinel", err)
		}
		return
	}
	if again := encodeBaseline(b, saved); !bytes.Equal(again, data) {
		t.Fatalf("accepted %d bytes, writes back %d different ones", len(data), len(again))
	}
	if len(b.fp) > maxBaselineKeys || len(b.path) > maxBaselineKeys || len(b.pathName) != len(b.path) {
		t.Fatalf("tables over their caps: %d fingerprints, %d paths, %d names", len(b.fp), len(b.path), len(b.pathName))
	}
}
