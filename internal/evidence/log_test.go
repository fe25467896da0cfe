package evidence

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/telemetry"
)

func TestEvidenceChainVerifies(t *testing.T) {
	dir := t.TempDir()
	l := open(t, dir, config.Evidence{})
	l.SetVerdict("attack: flood on /api/search")
	stop := start(t, l)
	for i := range 50 {
		rec, r := request(i)
		l.Observe(rec, r, t0)
		rec.Decide("cache", telemetry.OutcomeHit, "") // served: not evidence
		l.Observe(rec, r, t0)
	}
	waitWritten(t, l, 50)
	stop()
	rep := verifyOK(t, dir)
	if rep.Requests != 50 || rep.HeadSeq != 50 || !rep.Genesis || rep.Files != 1 {
		t.Fatalf("report %+v, want 50 requests from genesis in 1 file", rep)
	}
	e, _, _, err := parseLine([]byte(strings.TrimSuffix(lines(t, files(t, dir)[0])[0], "\n")))
	if err != nil {
		t.Fatal(err)
	}
	if e.Verdict != "attack: flood on /api/search" || e.Source != "203.0.113.0" || e.Prefix != "203.0.113.0/24" ||
		e.Target != "/api/search?q=0" || e.Outcome != "refused" || e.Reason != "rate_ip" || e.Status != 429 {
		t.Fatalf("first entry %+v", e)
	}
}

func TestEvidenceMitigatedAndIdentity(t *testing.T) {
	dir := t.TempDir()
	l := open(t, dir, config.Evidence{})
	stop := start(t, l)
	rec, r := request(1)
	rec.Decide("cache", telemetry.OutcomeMiss, "") // served, but a mitigation changed it
	rec.Action, rec.Fingerprint, rec.TLSFingerprint = "shadow:block_prefix", 0xfeed, 0xbeef
	rec.Prefix = netip.MustParsePrefix("203.0.112.0/23")
	l.Observe(rec, r, t0)
	rec.Action = ""
	l.Observe(rec, r, t0) // served untouched: not evidence
	waitWritten(t, l, 1)
	stop()
	rep := verifyOK(t, dir)
	if rep.Requests != 1 {
		t.Fatalf("%d requests kept, want the mitigated one only", rep.Requests)
	}
	e, _, _, _ := parseLine([]byte(strings.TrimSuffix(lines(t, files(t, dir)[0])[0], "\n")))
	if e.Action != "shadow:block_prefix" || e.Fingerprint != "000000000000feed" || e.TLSFingerprint != "000000000000beef" ||
		e.Prefix != "203.0.112.0/23" || e.Outcome != "miss" {
		t.Fatalf("entry %+v", e)
	}
}

func TestEvidenceRestartContinuesChain(t *testing.T) {
	dir := t.TempDir()
	write(t, open(t, dir, config.Evidence{}), 0, 10)
	write(t, open(t, dir, config.Evidence{}), 10, 10)
	rep := verifyOK(t, dir)
	if rep.HeadSeq != 20 || rep.Requests != 20 || rep.Gaps != 0 {
		t.Fatalf("after restart: %+v", rep)
	}
}

func TestEvidenceTornLastLine(t *testing.T) {
	for _, torn := range []string{`{"seq":11,"time":"20`, "\x00\x00\x00\x00"} {
		dir := t.TempDir()
		write(t, open(t, dir, config.Evidence{}), 0, 10)
		path := files(t, dir)[0]
		f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		f.WriteString(torn)
		f.Close()
		if rep := verifyOK(t, dir); rep.TornTail == "" {
			t.Fatalf("torn tail %q not reported", torn)
		}
		write(t, open(t, dir, config.Evidence{}), 10, 5)
		rep := verifyOK(t, dir)
		if rep.Gaps != 1 || rep.Requests != 15 || rep.HeadSeq != 16 || rep.TornTail != "" {
			t.Fatalf("after torn tail %q: %+v", torn, rep)
		}
		if !strings.Contains(lines(t, path)[10], "torn last line") {
			t.Fatalf("gap entry %q does not say what was cut", lines(t, path)[10])
		}
	}
}

func TestEvidenceInvalidLastLineKept(t *testing.T) {
	dir := t.TempDir()
	write(t, open(t, dir, config.Evidence{}), 0, 5)
	path := files(t, dir)[0]
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString("not an entry\n")
	f.Close()
	write(t, open(t, dir, config.Evidence{}), 5, 5)
	if n := len(files(t, dir)); n != 2 {
		t.Fatalf("%d files, want a new one after the invalid line", n)
	}
	rep, _ := verify(t, dir)
	if rep.Problems != 1 || rep.First.Line != 6 || rep.Gaps != 1 || rep.HeadSeq != 11 {
		t.Fatalf("report %+v first %v, want one problem at line 6 and the chain going on", rep, rep.First)
	}
}

func TestEvidencePruneKeepsVerifiable(t *testing.T) {
	dir := t.TempDir()
	const max = 64 << 10
	l := open(t, dir, config.Evidence{MaxBytes: max})
	write(t, l, 0, 600)
	var total int64
	for _, p := range files(t, dir) {
		fi, _ := os.Stat(p)
		total += fi.Size()
	}
	if st := l.Stats(); st.Pruned == 0 || total > max+4096 {
		t.Fatalf("%d bytes on disk after %d files pruned, want under %d", total, st.Pruned, max)
	}
	rep := verifyOK(t, dir)
	if rep.Genesis || !rep.Announced || rep.HeadSeq < 600 || !strings.Contains(rep.AnchorText(), "trusted") {
		t.Fatalf("report %+v: %s", rep, rep.AnchorText())
	}
	write(t, open(t, dir, config.Evidence{MaxBytes: max}), 600, 100) // restart with pruning
	verifyOK(t, dir)

	os.Remove(files(t, dir)[0]) // by hand: not announced
	rep, _ = verify(t, dir)
	if rep.OK() || !strings.Contains(rep.First.Reason, "no pruned entry") {
		t.Fatalf("removing the oldest file by hand not reported: %+v", rep)
	}
}

func TestEvidenceWriteErrorAdmitted(t *testing.T) {
	dir := t.TempDir()
	l := open(t, dir, config.Evidence{})
	write(t, l, 0, 3)
	w := l.w
	if err := w.open(false); err != nil {
		t.Fatal(err)
	}
	good := w.f
	w.f, _ = os.Open(filepath.Join(dir, w.segs[0].name)) // read-only: writes fail
	rec, r := request(3)
	w.add(buildEntry(rec, r, "", testRedactor))
	w.flush()
	w.f.Close()
	w.f = good
	rec, r = request(4)
	w.add(buildEntry(rec, r, "", testRedactor))
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	rep := verifyOK(t, dir)
	if st := l.Stats(); st.Lost != 1 || st.WriteErrors != 1 || rep.Gaps != 1 || rep.Requests != 4 {
		t.Fatalf("stats %+v report %+v", st, rep)
	}
}

func TestEvidenceSampling(t *testing.T) {
	l := open(t, t.TempDir(), config.Evidence{SampleRate: 0.5, PerSecond: 10})
	flip := 0.0
	l.rand = func() float64 { flip = 0.75 - flip; return flip } // 0.75, 0, 0.75, ...
	now := t0
	observe := func(n int) {
		for i := range n {
			rec, r := request(i)
			l.Observe(rec, r, now)
		}
	}
	steps := []struct {
		advance         time.Duration
		n               int
		sampled, capped uint64
	}{
		{0, 40, 10, 10},                      // half chosen, the first second's 10 taken
		{500 * time.Millisecond, 40, 15, 25}, // half a second: 5 more
		{time.Minute, 100, 25, 65},           // a long pause refills one second's worth only
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		observe(s.n)
		if st := l.Stats(); st.Sampled != s.sampled || st.DroppedCap != s.capped {
			t.Fatalf("after +%v: %+v, want %d sampled %d capped", s.advance, st, s.sampled, s.capped)
		}
	}
	for len(l.ch) > 0 {
		<-l.ch
	}
}

func TestEvidenceQueueFullNeverBlocks(t *testing.T) {
	l := open(t, t.TempDir(), config.Evidence{PerSecond: 1 << 20})
	rec, r := request(1)
	done := make(chan struct{})
	go func() {
		for range 3 * cap(l.ch) {
			l.Observe(rec, r, t0) // no Run: the queue fills
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Observe blocked on a full queue")
	}
	if st := l.Stats(); st.Sampled != uint64(cap(l.ch)) || st.DroppedFull != uint64(2*cap(l.ch)) {
		t.Fatalf("stats %+v, want %d queued and %d dropped", st, cap(l.ch), 2*cap(l.ch))
	}
	stop := start(t, l) // Run drains what was queued when stopped
	stop()
	if st := l.Stats(); st.Written != uint64(cap(l.ch)) {
		t.Fatalf("%d written, want the %d queued", st.Written, cap(l.ch))
	}
}

func TestEvidenceObserveAllocs(t *testing.T) {
	l := open(t, t.TempDir(), config.Evidence{SampleRate: 0.01, PerSecond: 1})
	l.rand = func() float64 { return 0.5 }
	rec, r := request(1)
	served := *rec
	served.Decide("cache", telemetry.OutcomeHit, "")
	cases := map[string]*telemetry.Record{"served": &served, "refused-not-chosen": rec}
	for name, rec := range cases {
		if n := testing.AllocsPerRun(1000, func() { l.Observe(rec, r, t0) }); n != 0 {
			t.Errorf("%s: %v allocs per Observe, want 0", name, n)
		}
	}
}

func BenchmarkEvidenceObserve(b *testing.B) {
	l, err := Open(config.Evidence{Dir: b.TempDir(), PerSecond: 1}, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	rec, r := request(1)
	served := *rec
	served.Decide("cache", telemetry.OutcomeHit, "")
	l.Observe(rec, r, t0) // spend the bucket
	for _, bc := range []struct {
		name string
		rec  *telemetry.Record
		rand float64
	}{{"served", &served, 0}, {"refused-not-chosen", rec, 0.5}, {"refused-over-cap", rec, 0}} {
		b.Run(bc.name, func(b *testing.B) {
			l.rand = func() float64 { return bc.rand }
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					l.Observe(bc.rec, r, t0)
				}
			})
		})
	}
	b.Run("sampled-and-built", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buildEntry(rec, r, "attack", testRedactor)
		}
	})
}
