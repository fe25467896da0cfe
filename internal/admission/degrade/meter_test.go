package degrade

import (
	"math"
	"sync"
	"testing"
	"time"
)

func TestMeterRate(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	at := func(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }
	m := NewMeter(10 * time.Second)
	if got := m.Rate(at(0)); got != 0 {
		t.Fatalf("first Rate = %g, want 0", got)
	}
	// 1 MB/s for 20 s, sampled every second: 8 Mbit/s.
	for s := 1; s <= 20; s++ {
		m.Add(1_000_000)
		if got := m.Rate(at(float64(s))); math.Abs(got-8e6) > 1 {
			t.Fatalf("t=%ds: rate %g, want 8e6", s, got)
		}
	}
	if got := m.Rate(at(20)); math.Abs(got-8e6) > 1 {
		t.Errorf("second call at the same instant: %g, want the same 8e6", got)
	}
	// Silence: the average falls as the window slides, to 0 once past it.
	want := map[int]float64{25: 4e6, 30: 0, 31: 0}
	for s := 21; s <= 31; s++ {
		got := m.Rate(at(float64(s)))
		if w, ok := want[s]; ok && math.Abs(got-w) > 1 {
			t.Errorf("t=%ds idle: rate %g, want %g", s, got, w)
		}
	}
	if m.Total() != 20_000_000 {
		t.Errorf("Total = %d", m.Total())
	}
}

func TestMeterEdges(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	for _, tc := range []struct {
		name   string
		window time.Duration
		run    func(m *Meter) float64
		want   float64
	}{
		{"default window", 0, func(m *Meter) float64 { return float64(m.Window()) }, float64(DefaultWindow)},
		{"negative bytes ignored", time.Second, func(m *Meter) float64 {
			m.Rate(t0)
			m.Add(-100)
			m.Add(0)
			m.Add(125)
			return m.Rate(t0.Add(time.Second))
		}, 1000},
		{"idle longer than the window: average since the last call", time.Second, func(m *Meter) float64 {
			m.Rate(t0)
			m.Add(1000)
			return m.Rate(t0.Add(8 * time.Second))
		}, 1000},
		{"calls closer than a step keep one sample", time.Second, func(m *Meter) float64 {
			m.Rate(t0)
			for i := 1; i <= 1000; i++ {
				m.Add(1)
				m.Rate(t0.Add(time.Duration(i) * time.Millisecond))
			}
			return m.Rate(t0.Add(time.Second))
		}, 8000},
		{"clock going back restarts", time.Second, func(m *Meter) float64 {
			m.Rate(t0.Add(time.Hour))
			m.Add(1000)
			m.Rate(t0) // back an hour: a fresh start, keeps the last rate (0)
			m.Add(250)
			return m.Rate(t0.Add(time.Second))
		}, 2000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.run(NewMeter(tc.window)); math.Abs(got-tc.want) > 1e-6*tc.want+1e-9 {
				t.Errorf("got %g, want %g", got, tc.want)
			}
		})
	}
}

func TestMeterConcurrent(t *testing.T) {
	m := NewMeter(time.Second)
	t0 := time.Unix(1_700_000_000, 0)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10_000 {
				m.Add(10)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 1000 {
			if r := m.Rate(t0.Add(time.Duration(i) * time.Millisecond)); r < 0 {
				t.Errorf("negative rate %g", r)
			}
		}
	}()
	wg.Wait()
	if m.Total() != 400_000 {
		t.Errorf("Total = %d, want 400000", m.Total())
	}
}

func TestMeterAddAllocs(t *testing.T) {
	m := NewMeter(time.Second)
	if n := testing.AllocsPerRun(1000, func() { m.Add(1500) }); n != 0 {
		t.Errorf("Add allocates %v times", n)
	}
}

func BenchmarkMeterAdd(b *testing.B) {
	m := NewMeter(time.Second)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Add(32 << 10)
		}
	})
}

func BenchmarkMeterRate(b *testing.B) {
	m := NewMeter(5 * time.Second)
	t0 := time.Unix(1_700_000_000, 0)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Add(1 << 20)
		m.Rate(t0.Add(time.Duration(i) * 100 * time.Millisecond))
	}
}
