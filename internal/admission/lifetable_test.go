package admission

import (
	"math"
	"testing"
	"time"
)

// sweepTable plays one sweep of a table: open sessions at the given ages,
// ended ones at theirs.
func sweepTable(lt *lifetable, open, ended []float64) {
	lt.begin(time.Second)
	for _, a := range open {
		lt.alive(a)
	}
	for _, a := range ended {
		lt.ended(a)
	}
}

func TestLifetableUntrustedUntilMostLifetimesSeen(t *testing.T) {
	// 100 sessions admitted together, each living exactly 20 s: until they
	// end, the table has seen no lifetime and tells nothing.
	var lt lifetable
	ages := make([]float64, 100)
	for s := range 20 {
		for i := range ages {
			ages[i] = float64(s)
		}
		sweepTable(&lt, ages, nil)
		lt.project(0, 50)
		if w := lt.wait(10); w >= 0 {
			t.Fatalf("at %d s, before any session ended: wait %v, want none", s, w)
		}
	}
	// They all end at 20 s and 100 new ones start: now it knows.
	sweepTable(&lt, make([]float64, 100), ages[:0:0])
	for range 100 {
		lt.ended(20)
	}
	lt.project(0, 250)
	if w := lt.wait(100); w < 0 {
		t.Fatal("no wait once every lifetime was seen")
	}
}

func TestLifetableProjectsTurnovers(t *testing.T) {
	// A room of 60 whose sessions all live 30 s, in equilibrium: one place
	// frees every half second, so the 120th place ahead frees in about 60 s.
	var lt lifetable
	for s := range 300 {
		open := make([]float64, 0, 60)
		var ended []float64
		for i := range 60 {
			age := float64((s + i/2) % 30) // two sessions per age second
			if age == 0 && s >= 30 {
				ended = append(ended, 30)
			}
			open = append(open, age)
		}
		sweepTable(&lt, open, ended)
	}
	lt.project(0, 200)
	for _, c := range []struct {
		ahead int
		want  float64
	}{{2, 1}, {60, 30}, {120, 60}} {
		got := lt.wait(c.ahead).Seconds()
		if math.Abs(got-c.want) > 0.15*c.want+1 {
			t.Errorf("wait for %d ahead: %.1f s, want about %.0f", c.ahead, got, c.want)
		}
	}
	// Beyond the projection's end, waits go on at its last rate.
	lt.project(0, 10)
	if got := lt.wait(600).Seconds(); math.Abs(got-300) > 45 {
		t.Errorf("wait for 600 ahead past the projection: %.0f s, want about 300", got)
	}
}

func TestLifetableWidensItsBins(t *testing.T) {
	var lt lifetable
	sweepTable(&lt, []float64{10, 100}, []float64{50})
	w0 := lt.width
	sweepTable(&lt, []float64{5000}, []float64{9000})
	if lt.width <= w0 || 9000 >= lifeBins*lt.width {
		t.Fatalf("width %v after an age of 9000 s (was %v)", lt.width, w0)
	}
	var deaths, open float64
	for b := range lifeBins {
		deaths += lt.deaths[b]
		open += lt.open[b]
	}
	if math.Abs(deaths-2) > 0.01 || open != 1 {
		t.Errorf("after widening: %.2f deaths (want 2, faded a little), %.0f open (want 1)", deaths, open)
	}
	if b := lt.bin(-3); b != 0 {
		t.Errorf("a negative age (clock step) falls in bin %d, want 0", b)
	}
}

// BenchmarkLifetableProject is the room's once-a-second projection at its
// longest (every bin in use, projectSteps steps).
func BenchmarkLifetableProject(b *testing.B) {
	var lt lifetable
	open := make([]float64, 1000)
	for i := range open {
		open[i] = float64(i % lifeBins)
	}
	for range 20 {
		sweepTable(&lt, open, open[:200])
	}
	for b.Loop() {
		lt.project(5, math.Inf(1))
	}
	if lt.steps != projectSteps {
		b.Fatalf("%d steps", lt.steps)
	}
}
