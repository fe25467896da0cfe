package detect

import (
	"math"
	"testing"
)

func TestHLL(t *testing.T) {
	tests := []struct {
		p    uint8
		n    int
		tol  float64
		name string
	}{
		{sourcesP, 0, 0, "empty"},
		{sourcesP, 100, 0.05, "small"},
		{sourcesP, 200_000, 0.05, "large"},
		{pathP, 1000, 0.4, "tiny sketch"},
		{fpSourcesP, 5000, 0.2, "fingerprint sketch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			regs := make([]uint8, 1<<tt.p)
			for i := range tt.n {
				hllAdd(regs, tt.p, mix(uint64(i)))
				hllAdd(regs, tt.p, mix(uint64(i))) // repeats do not count
			}
			got := hllCount(regs)
			if math.Abs(got-float64(tt.n)) > tt.tol*float64(tt.n)+0.5 {
				t.Fatalf("count %d distinct = %.0f", tt.n, got)
			}
		})
	}
}

// TestTopKKeepsHeavyHitters streams a million one-off keys among a few
// heavy ones, each above the space-saving guarantee (1/k of the stream):
// the heavy ones stay, counted exactly since they entered.
func TestTopKKeepsHeavyHitters(t *testing.T) {
	tk := newTopK[srcEntry](64)
	heavy := []uint64{11, 22, 33, 44}
	for i := range 1_000_000 {
		tk.touch(mix(uint64(i))|1<<63).n++
		if i%20 == 0 {
			for _, h := range heavy {
				tk.touch(h).n++
			}
		}
	}
	for _, h := range heavy {
		s := tk.find(h)
		if s < 0 {
			t.Fatalf("heavy key %d evicted", h)
		}
		if n := tk.ents[s].n; n < 45_000 {
			t.Errorf("heavy key %d own count %d, want ≈ 50000", h, n)
		}
	}
	if tk.n != 64 || len(tk.idx) != 256 {
		t.Fatalf("table grew: %d slots, index %d", tk.n, len(tk.idx))
	}
}

func TestCMSOverestimates(t *testing.T) {
	var c cms
	for i := range 50_000 {
		c.add(mix(uint64(i % 5000)))
	}
	for i := range 5000 {
		if got := c.query(mix(uint64(i))); got < 10 || got > 60 {
			t.Fatalf("key %d: %d, want 10 (+ small overestimate)", i, got)
		}
	}
}

func TestRecent(t *testing.T) {
	r := newRecent(recentBits)
	if r.seen(42) {
		t.Fatal("new source known")
	}
	if !r.seen(42) {
		t.Fatal("source forgotten at once")
	}
	r.rotate()
	if !r.seen(42) {
		t.Fatal("source forgotten after one rotation")
	}
	r.rotate()
	r.rotate()
	if r.seen(42) {
		t.Fatal("source remembered after the window")
	}
}
