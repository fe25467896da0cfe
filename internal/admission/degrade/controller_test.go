package degrade

import (
	"errors"
	"math"
	"sync"
	"testing"
	"time"
)

func TestLevelDrops(t *testing.T) {
	for _, tc := range []struct {
		level           Level
		newcomer, other int
	}{
		{-1, 0, 0}, {0, 0, 0}, {1, 1, 0}, {2, 1, 1}, {3, 2, 1}, {4, 2, 2}, {5, 3, 2}, {8, 4, 4},
	} {
		if got := tc.level.Drops(true); got != tc.newcomer {
			t.Errorf("Level(%d).Drops(newcomer) = %d, want %d", tc.level, got, tc.newcomer)
		}
		if got := tc.level.Drops(false); got != tc.other {
			t.Errorf("Level(%d).Drops(others) = %d, want %d", tc.level, got, tc.other)
		}
	}
}

func TestMaxFor(t *testing.T) {
	for r, want := range map[int]Level{0: 0, 1: 0, 2: 2, 4: 6, 5: 8} {
		got := MaxFor(r)
		if got != want {
			t.Errorf("MaxFor(%d) = %d, want %d", r, got, want)
		}
		if r > 0 && (got.Drops(false) != r-1 || got.Drops(true) != r-1) {
			t.Errorf("MaxFor(%d) = %d drops %d/%d, want %d for all", r, got, got.Drops(true), got.Drops(false), r-1)
		}
	}
}

func TestSettingsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    Settings
		ok   bool
	}{
		{"zero is defaults", Settings{}, true},
		{"explicit", Settings{High: 1, Low: 0.5, Hold: time.Second, Max: 3}, true},
		{"high over 1", Settings{High: 1.5}, false},
		{"negative high", Settings{High: -0.1}, false},
		{"low over high", Settings{High: 0.5, Low: 0.6}, false},
		{"low equal high", Settings{High: 0.7, Low: 0.7}, false},
		{"NaN low", Settings{Low: math.NaN()}, false},
		{"negative hold", Settings{Hold: -time.Second}, false},
		{"negative max", Settings{Max: -1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.s.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok %v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrSettings) {
				t.Errorf("error %v does not wrap ErrSettings", err)
			}
			if _, err := NewController(tc.s); (err == nil) != tc.ok {
				t.Errorf("NewController() = %v, want ok %v", err, tc.ok)
			}
		})
	}
}

// step is one Update of a scripted run: at seconds since the start, with
// egress and cap in bit/s, and the level expected after it.
type step struct {
	at          float64
	egress, cap float64
	want        Level
}

func TestControllerUpdate(t *testing.T) {
	s := Settings{High: 0.9, Low: 0.7, Hold: 5 * time.Second, Max: 3}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"calm stays at 0", []step{{0, 50, 100, 0}, {10, 80, 100, 0}, {20, 0, 100, 0}}},
		{"first rise is at once", []step{{0, 95, 100, 1}}},
		{"one step per hold", []step{{0, 95, 100, 1}, {1, 99, 100, 1}, {4.9, 99, 100, 1}, {5, 99, 100, 2}, {9, 99, 100, 2}, {10, 99, 100, 3}}},
		{"stops at max", []step{{0, 95, 100, 1}, {5, 95, 100, 2}, {10, 95, 100, 3}, {15, 200, 100, 3}, {60, 200, 100, 3}}},
		{"between thresholds holds", []step{{0, 95, 100, 1}, {5, 80, 100, 1}, {60, 71, 100, 1}, {61, 90, 100, 1}}},
		{"falls one step per hold", []step{{0, 95, 100, 1}, {5, 95, 100, 2}, {6, 10, 100, 2}, {10, 10, 100, 1}, {12, 10, 100, 1}, {15, 10, 100, 0}, {30, 0, 100, 0}}},
		{"no flapping on a spike", []step{{0, 95, 100, 1}, {1, 10, 100, 1}, {2, 95, 100, 1}, {3, 10, 100, 1}, {5, 10, 100, 0}}},
		{"cap removed: level 0 at once", []step{{0, 95, 100, 1}, {5, 95, 100, 2}, {6, 95, 0, 0}, {7, 95, 100, 0}, {11, 95, 100, 1}}},
		{"NaN egress changes nothing", []step{{0, 95, 100, 1}, {10, math.NaN(), 100, 1}}},
		{"NaN cap is no cap", []step{{0, 95, 100, 1}, {1, 95, math.NaN(), 0}}},
		{"clock going back waits", []step{{10, 95, 100, 1}, {0, 95, 100, 1}, {15, 95, 100, 2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewController(s)
			if err != nil {
				t.Fatal(err)
			}
			t0 := time.Unix(1_700_000_000, 0)
			for i, st := range tc.steps {
				now := t0.Add(time.Duration(st.at * float64(time.Second)))
				if got := c.Update(now, st.egress, st.cap); got != st.want {
					t.Fatalf("step %d (t=%gs, %g/%g): level %d, want %d", i, st.at, st.egress, st.cap, got, st.want)
				}
				if c.Level() != st.want {
					t.Fatalf("step %d: Level() = %d, want %d", i, c.Level(), st.want)
				}
			}
		})
	}
}

func TestControllerStats(t *testing.T) {
	c, err := NewController(Settings{Hold: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st != (Stats{}) {
		t.Fatalf("fresh Stats = %+v", st)
	}
	t0 := time.Unix(1_700_000_000, 0)
	c.Update(t0, 95e6, 100e6)
	c.Update(t0.Add(time.Second), 96e6, 100e6)
	c.Update(t0.Add(1500*time.Millisecond), 97e6, 100e6)
	want := Stats{Level: 2, EgressBps: 97e6, CapBps: 100e6, Changes: 2, Changed: t0.Add(time.Second)}
	if st := c.Stats(); !st.Changed.Equal(want.Changed) || st.Level != want.Level ||
		st.EgressBps != want.EgressBps || st.CapBps != want.CapBps || st.Changes != want.Changes {
		t.Errorf("Stats = %+v, want %+v", st, want)
	}
}

func TestControllerSetSettings(t *testing.T) {
	c, err := NewController(Settings{Hold: time.Second, Max: 4})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1_700_000_000, 0)
	for i := range 4 {
		c.Update(t0.Add(time.Duration(i)*time.Second), 100, 100)
	}
	if c.Level() != 4 {
		t.Fatalf("level %d, want 4", c.Level())
	}
	applied, err := c.SetSettings(Settings{High: 0.5, Low: 0.6})
	if err == nil || !errors.Is(err, ErrSettings) || applied.Max != 4 || applied.High != DefaultHigh {
		t.Fatalf("bad SetSettings = %+v, %v: want the old settings kept and ErrSettings", applied, err)
	}
	applied, err = c.SetSettings(Settings{Max: 2})
	want := Settings{High: DefaultHigh, Low: DefaultLow, Hold: DefaultHold, Max: 2}
	if err != nil || applied != want {
		t.Fatalf("SetSettings = %+v, %v; want %+v", applied, err, want)
	}
	// Over the new Max, the level comes down at once, whatever the hold.
	if got := c.Update(t0.Add(3500*time.Millisecond), 100, 100); got != 2 {
		t.Errorf("after lowering Max: level %d, want 2", got)
	}
}

// TestControllerConcurrent runs Update, SetSettings and the readers at
// once, for the race detector.
func TestControllerConcurrent(t *testing.T) {
	c, err := NewController(Settings{Hold: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t0 := time.Unix(1_700_000_000, 0)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				switch g {
				case 0:
					c.Update(t0.Add(time.Duration(i)*time.Millisecond), float64(i%200), 100)
				case 1:
					_, _ = c.SetSettings(Settings{Max: Level(1 + i%5)})
				default:
					if l := c.Level(); l < 0 || l > DefaultMax {
						t.Errorf("level %d out of range", l)
					}
					_ = c.Stats()
				}
			}
		}()
	}
	wg.Wait()
}
