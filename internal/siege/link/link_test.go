package link

import (
	"context"
	"errors"
	"io"
	"math"
	"sync"
	"testing"
	"time"
)

func TestNewRefusesBadCapacity(t *testing.T) {
	for _, mbps := range []float64{0, -1, math.NaN(), math.Inf(1), MaxMbps * 2} {
		if _, err := New(mbps); !errors.Is(err, ErrCapacity) {
			t.Errorf("New(%v) = %v, want ErrCapacity", mbps, err)
		}
	}
	l, err := New(380)
	if err != nil || l.Mbps() != 380 {
		t.Fatalf("New(380) = %v, %v", l, err)
	}
	var none *Link
	if none.Mbps() != 0 || none.Reserve(time.Now(), 1<<20) != 0 || none.NewReader(nil) != nil {
		t.Error("a nil link must pace nothing")
	}
}

// TestReserve drives the bucket with a fake clock: a burst passes at once,
// then bytes pass at the capacity, in the order booked; an idle link
// refills up to the burst, no more.
func TestReserve(t *testing.T) {
	l, _ := New(8) // 1 MB/s: 1 byte per µs; the burst is 64 KiB (65.536 ms)
	t0 := time.Unix(1000, 0)
	us := func(n int) time.Duration { return time.Duration(n) * time.Microsecond }
	steps := []struct {
		name string
		at   time.Duration
		n    int
		want time.Duration
	}{
		{"burst passes at once", 0, MinBurst, 0},
		{"then at the capacity", 0, 16 << 10, us(16 << 10)},
		{"booked after the one before", 0, 16 << 10, us(32 << 10)},
		{"time passing pays the debt", us(32 << 10), 1000, us(1000)},
		{"idle refills", 10 * time.Second, MinBurst, 0},
		{"but no more than the burst", 10 * time.Second, 1000, us(1000)},
	}
	for _, s := range steps {
		if got := l.Reserve(t0.Add(s.at), s.n); got != s.want {
			t.Errorf("%s: Reserve(+%v, %d) = %v, want %v", s.name, s.at, s.n, got, s.want)
		}
	}
	if got, want := l.Stats.Bytes.Load(), int64(2*MinBurst+32<<10+2000); got != want {
		t.Errorf("Stats.Bytes = %d, want %d", got, want)
	}
}

// endless is a body that never ends: every read fills p.
type endless struct{}

func (endless) Read(p []byte) (int, error) { return len(p), nil }

// TestReadersShareTheCapacity: readers through a 10 Mbit/s link get 10
// Mbit/s together (±15 %), in nearly equal shares.
func TestReadersShareTheCapacity(t *testing.T) {
	const (
		readers = 8
		mbps    = 10.0
		run     = 2 * time.Second
	)
	l, _ := New(mbps)
	ctx, cancel := context.WithTimeout(context.Background(), run)
	defer cancel()
	got := make([]int64, readers)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range readers {
		wg.Go(func() {
			pr := l.NewReader(nil)
			pr.Reset(ctx, endless{})
			buf := make([]byte, 32<<10)
			for {
				n, err := pr.Read(buf)
				if err != nil {
					return // the last chunk's wait was cut: not carried
				}
				got[i] += int64(n)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var total int64
	for _, n := range got {
		total += n
	}
	rate := float64(total) * 8 / 1e6 / elapsed.Seconds()
	if math.Abs(rate-mbps)/mbps > 0.15 {
		t.Errorf("%d readers carried %.2f Mbit/s together over %v, want %.0f ± 15%%", readers, rate, elapsed, mbps)
	}
	mean := float64(total) / readers
	t.Logf("%d readers: %.2f Mbit/s together; shares %v", readers, rate, got)
	for i, n := range got {
		if math.Abs(float64(n)-mean)/mean > 0.25 {
			t.Errorf("reader %d carried %d bytes, the mean is %.0f: unfair share %v", i, n, mean, got)
			break
		}
	}
}

// TestReadHonoursCancel: a reader held back by a slow link returns as
// soon as its context ends, with the context's error.
func TestReadHonoursCancel(t *testing.T) {
	l, _ := New(0.1) // 12.5 kB/s: a chunk after the burst waits over a second
	ctx, cancel := context.WithCancel(context.Background())
	pr := l.NewReader(nil)
	pr.Reset(ctx, endless{})
	buf := make([]byte, MaxChunk)
	for range MinBurst / MaxChunk {
		if _, err := pr.Read(buf); err != nil {
			t.Fatalf("read within the burst: %v", err)
		}
	}
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	n, err := pr.Read(buf)
	if !errors.Is(err, context.Canceled) || n != MaxChunk {
		t.Fatalf("Read = %d, %v; want %d, context.Canceled", n, err, MaxChunk)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("Read returned %v after the cancel was due, want promptly", d)
	}
}

// TestReadPassesEOF: the body's end comes through, with its last bytes.
func TestReadPassesEOF(t *testing.T) {
	l, _ := New(1000)
	pr := l.NewReader(nil)
	pr.Reset(context.Background(), io.LimitReader(endless{}, 100<<10))
	n, err := io.Copy(io.Discard, pr)
	if err != nil || n != 100<<10 {
		t.Fatalf("copied %d, %v; want %d, nil", n, err, 100<<10)
	}
	if l.Stats.Bytes.Load() != n {
		t.Errorf("Stats.Bytes = %d, want %d", l.Stats.Bytes.Load(), n)
	}
}

func TestReadAllocatesNothing(t *testing.T) {
	l, _ := New(MaxMbps) // never full: measures the bookkeeping alone
	pr := l.NewReader(nil)
	pr.Reset(context.Background(), endless{})
	buf := make([]byte, 8<<10)
	if a := testing.AllocsPerRun(1000, func() { _, _ = pr.Read(buf) }); a != 0 {
		t.Errorf("Read allocates %v times, want 0", a)
	}
}

// BenchmarkReserve is the link's lock under contention: every reader of a
// run books through it.
func BenchmarkReserve(b *testing.B) {
	l, _ := New(MaxMbps)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Reserve(time.Now(), 8<<10)
		}
	})
}

// BenchmarkRead is one paced 8 KiB read on a link that is never full.
func BenchmarkRead(b *testing.B) {
	l, _ := New(MaxMbps)
	pr := l.NewReader(nil)
	pr.Reset(context.Background(), endless{})
	buf := make([]byte, 8<<10)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		_, _ = pr.Read(buf)
	}
}
