package viewer

import (
	"net/http"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/hls"
	"github.com/rempart/rempart/internal/siege/sim"
)

func TestPlayout(t *testing.T) {
	rec := &fakeRec{}
	t0 := time.Unix(1000, 0)
	v := &viewer{env: &sim.Env{Rec: rec}}
	p := playout{v: v, joined: t0, at: t0, startNeed: 1, resumeNeed: 2 * time.Second}
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	p.add(at(0.5), time.Second, 1000) // starts
	p.add(at(1.0), time.Second, 3000)
	p.advance(at(3.0)) // 2 s buffered from 0.5: dry at 2.5
	if !p.stalled || p.stalls != 1 || p.stallSince != at(2.5) {
		t.Fatalf("want a stall at 2.5s: %+v", p)
	}
	p.add(at(3.5), time.Second, 1000) // 1 s < resume need of 2 s
	if !p.stalled {
		t.Fatal("resumed with less than the rebuffer need")
	}
	p.add(at(4.0), time.Second, 1000)
	if p.stalled {
		t.Fatal("not resumed with 2 s buffered")
	}
	s := p.summary(at(5.0)) // plays 1 s of the 2
	want := sim.ViewerSummary{Started: true, Startup: 500 * time.Millisecond, Stalls: 1,
		StallTime: 1500 * time.Millisecond, Watched: 3 * time.Second, Bitrate: 1667} // 5000 bit·s over 3 s, rounded
	if s != want {
		t.Errorf("summary %+v\nwant    %+v", s, want)
	}
	if got := rec.stateList(); len(got) != 3 || got[0] != sim.StatePlaying || got[1] != sim.StateStalled || got[2] != sim.StatePlaying {
		t.Errorf("states %v", got)
	}
}

func TestJar(t *testing.T) {
	now := time.Unix(1000, 0)
	var j jar
	set := func(cookies ...string) {
		j.set(&http.Response{Header: http.Header{"Set-Cookie": cookies}}, now)
	}
	set("a=1; Path=/", "b=2; Max-Age=10")
	set("a=3")
	if got := j.header(now); got != "b=2; a=3" {
		t.Errorf("header %q", got)
	}
	set("b=; Max-Age=-1")
	if got := j.header(now.Add(time.Hour)); got != "a=3" {
		t.Errorf("header after expiry %q", got)
	}
}

func TestChoose(t *testing.T) {
	vs := []*hls.Variant{{Bandwidth: 400_000}, {Bandwidth: 800_000}, {Bandwidth: 1_500_000}}
	for budget, want := range map[float64]int{0: 0, 500_000: 0, 800_000: 1, 10e6: 2} {
		if got := choose(vs, budget); got != want {
			t.Errorf("choose(%v) = %d, want %d", budget, got, want)
		}
	}
	var tp throughput
	tp.sample(125_000, time.Second) // 1 Mbit/s
	tp.sample(12_500, time.Second)  // 100 kbit/s: the fast average drops first
	if e := tp.estimate(); e >= 1e6 || e <= 100e3 {
		t.Errorf("estimate %v", e)
	}
	if d := durationParam(sim.Params{"a": "1.5s", "b": 2, "c": 0.5}, "a", 0); d != 1500*time.Millisecond {
		t.Errorf("durationParam string = %v", d)
	}
	if d := durationParam(sim.Params{"b": 2}, "b", 0); d != 2*time.Second {
		t.Errorf("durationParam int = %v", d)
	}
}
