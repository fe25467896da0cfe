package admission

import (
	"fmt"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
)

func TestWaitEstimateFollowsTheDepartureRate(t *testing.T) {
	// 60 places; viewers watch 20-40 s, then their session ends 5 s later
	// (session_idle) and the place is taken at the next holder's poll:
	// places turn over every ~36.5 s, ~1.64 a second. After a few turnovers
	// a newcomer at position p should be told about p ÷ 1.64 s.
	res := simulateRoom(t, 60, 10, 240*time.Second, 240*time.Second, uniform(20*time.Second, 40*time.Second), 1)
	f := res.f
	const rate = 60 / 36.5
	if got := f.room.Snapshot(f.clk.now()).DepartureRate; math.Abs(got-rate) > 0.5 {
		t.Fatalf("departure rate %.2f/s, want about %.2f", got, rate)
	}
	rp := f.get(newViewer("10.250.0.1"), "/m.m3u8")
	if rp.answer.Wait == nil {
		t.Fatalf("no wait told: %+v", rp.answer)
	}
	want := float64(rp.answer.Position) / rate
	if got := *rp.answer.Wait; math.Abs(got-want) > 0.15*want {
		t.Errorf("wait told %.0fs at position %d, want about %.0fs", got, rp.answer.Position, want)
	}
}

func TestUnknownWaitWhenNothingLeftYet(t *testing.T) {
	f := newFixture(t, testConfig(1))
	f.get(newViewer("192.0.2.1"), "/m.m3u8")
	rp := f.get(newViewer("192.0.2.2"), "/m.m3u8")
	if rp.answer.Wait != nil {
		t.Errorf("wait %v told with no departure seen, want none", *rp.answer.Wait)
	}
	if ra := rp.answer.RetryAfter; ra < 8 || ra > 12 {
		t.Errorf("retry after %.1fs with no estimate, want poll_max (10s) ±20%%", ra)
	}
}

func TestAdmitRateSpreadsAdmissions(t *testing.T) {
	f := newFixture(t, testConfig(0, func(a *config.Admission) { a.AdmitRate, a.AdmitBurst = 5, 5 }))
	admitted := 0
	var held []*viewer
	for i := range 20 {
		v := newViewer(fmt.Sprintf("10.%d.0.1", i))
		if f.get(v, "/m.m3u8").code == http.StatusOK {
			admitted++
		} else {
			held = append(held, v)
		}
	}
	if admitted != 5 {
		t.Fatalf("admitted %d at once, want the burst (5)", admitted)
	}
	// The rest is admitted at 5 a second, in order.
	for sec := 1; sec <= 3; sec++ {
		for range 4 {
			f.tick(250 * time.Millisecond)
		}
		n := 0
		for _, v := range held {
			if v.session == "" && f.get(v, "/m.m3u8").code == http.StatusOK {
				n++
			}
		}
		if n != 5 {
			t.Errorf("second %d: %d admitted, want 5", sec, n)
		}
	}
}

func TestGrantNotTakenGoesToTheNext(t *testing.T) {
	f := newFixture(t, testConfig(1))
	f.get(newViewer("192.0.2.1"), "/m.m3u8")
	gone, next := newViewer("198.51.100.1"), newViewer("203.0.113.1")
	f.get(gone, "/m.m3u8")
	f.get(next, "/m.m3u8")
	for range 7 { // 35 s: the first viewer's session ends; gone is granted
		f.tick(5 * time.Second)
		f.get(next, "/m.m3u8")
	}
	for range 4 { // grant_hold (15s) passes without gone coming back
		f.tick(5 * time.Second)
		f.get(next, "/m.m3u8")
	}
	if rp := f.get(next, "/m.m3u8"); rp.code != http.StatusOK {
		t.Fatalf("next after an untaken grant: %d %+v, want admitted", rp.code, rp.answer)
	}
	if rp := f.get(gone, "/m.m3u8"); rp.code != 503 || rp.answer.Number != 3 {
		t.Errorf("late holder: %d %+v, want a new ticket (number 3) at the back", rp.code, rp.answer)
	}
	if f.room.stats.Expired.Load() != 1 {
		t.Errorf("expired grants %d, want 1", f.room.stats.Expired.Load())
	}
}

func TestAbandonedTicketsLeaveTheLine(t *testing.T) {
	f := newFixture(t, testConfig(1))
	watcher := newViewer("192.0.2.1")
	f.get(watcher, "/m.m3u8")
	quitter, stayer := newViewer("198.51.100.1"), newViewer("203.0.113.1")
	f.get(quitter, "/m.m3u8")
	if rp := f.get(stayer, "/m.m3u8"); rp.answer.Position != 2 {
		t.Fatalf("position %d, want 2", rp.answer.Position)
	}
	for range 13 { // 65 s without the quitter: dropped after 60 s
		f.tick(5 * time.Second)
		f.get(watcher, "/m.m3u8")
		f.get(stayer, "/m.m3u8")
	}
	if rp := f.get(stayer, "/m.m3u8"); rp.answer.Position != 1 {
		t.Errorf("after the one ahead left: position %d, want 1", rp.answer.Position)
	}
	if f.room.stats.Abandoned.Load() != 1 {
		t.Errorf("abandoned %d, want 1", f.room.stats.Abandoned.Load())
	}
}

func TestRaffleAdmitsEveryoneInSomeOrder(t *testing.T) {
	f := newFixture(t, testConfig(1, func(a *config.Admission) { a.Queue.Order = "raffle" }))
	f.get(newViewer("192.0.2.1"), "/m.m3u8")
	var line []*viewer
	for i := range 30 {
		v := newViewer(fmt.Sprintf("10.%d.0.1", i))
		if rp := f.get(v, "/m.m3u8"); rp.answer.Position != 0 || rp.answer.Wait != nil && *rp.answer.Wait < 0 {
			t.Fatalf("raffle answer %+v: want no position", rp.answer)
		}
		line = append(line, v)
	}
	order := []int{}
	for len(order) < len(line) {
		f.tick(31 * time.Second)
		for i, v := range line {
			if v.session == "" && f.get(v, "/m.m3u8").code == http.StatusOK {
				order = append(order, i)
			}
		}
	}
	inOrder := true
	for i := range order {
		inOrder = inOrder && order[i] == i
	}
	if inOrder {
		t.Errorf("raffle admitted in arrival order %v: the draw is not random", order)
	}
}

func TestPreQueueShuffledAtTheDoors(t *testing.T) {
	clk := newClock()
	start := clk.now().Add(10 * time.Minute)
	cfg := testConfig(0, func(a *config.Admission) { a.Queue.EventStart = start.Format(time.RFC3339) })
	f := newFixture(t, cfg)
	var pre []*viewer
	for i := range 40 {
		v := newViewer(fmt.Sprintf("10.%d.0.1", i))
		rp := f.get(v, "/m.m3u8")
		if rp.code != 503 || rp.answer.Status != "prequeue" || rp.answer.OpensIn < 500 {
			t.Fatalf("before the doors: %d %+v, want 503 prequeue opening in 600s", rp.code, rp.answer)
		}
		pre = append(pre, v)
	}
	for range 120 { // holders keep asking until the doors open
		f.tick(5 * time.Second)
		for _, v := range pre {
			f.get(v, "/m.m3u8")
		}
	}
	// Unlimited capacity: all are granted at the doors, in a drawn order.
	seqs := make([]int, 0, len(pre))
	for _, v := range pre {
		if v.seq == 0 {
			t.Fatalf("viewer %s not admitted after the doors", v.addr)
		}
		seqs = append(seqs, int(v.seq))
	}
	sorted := true
	for i := 1; i < len(seqs); i++ {
		sorted = sorted && seqs[i] > seqs[i-1]
	}
	if sorted {
		t.Errorf("pre-queue admitted in arrival order %v: want a draw", seqs)
	}
	// After the doors: first come, first served, behind nobody.
	late := newViewer("203.0.113.9")
	if rp := f.get(late, "/m.m3u8"); rp.code != http.StatusOK {
		t.Errorf("after the doors, with room: %d", rp.code)
	}
}

func TestSetCapacityAppliesAndClamps(t *testing.T) {
	f := newFixture(t, testConfig(1))
	f.get(newViewer("192.0.2.1"), "/m.m3u8")
	waiting := newViewer("198.51.100.1")
	f.get(waiting, "/m.m3u8")
	got := f.room.SetCapacity(Capacity{MaxSessions: 2, AdmitRate: -3})
	if got.MaxSessions != 2 || got.AdmitRate != 0 || got.AdmitBurst != 1 {
		t.Errorf("applied %+v, want 2 sessions, rate 0 (none), burst 1", got)
	}
	if rp := f.get(waiting, "/m.m3u8"); rp.code != http.StatusOK {
		t.Errorf("waiting viewer after the capacity grew: %d, want admitted", rp.code)
	}
}
