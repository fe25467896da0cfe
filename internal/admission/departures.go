package admission

import (
	"math"
	"time"
)

// departureRing is how far back departures are remembered, in seconds.
const departureRing = 120

// steadyTolerance is how far apart the departure rates of two consecutive
// windows may be for the rate to count as steady.
const steadyTolerance = 0.2

// The departure rate behind displayed waits is taken over the last
// departureWindow seconds, or further back (up to departureRing) until it
// rests on minDepartures, or, early on, since the first departure (at
// least minDepartureSpan). A short window follows a rate that is still
// rising (as the first viewers start leaving) or falling; a small room
// needs a longer one. Below minDepartures the room tells no wait rather
// than a guess.
const (
	departureWindow  = 15
	minDepartureSpan = 3
	minDepartures    = 8
)

// departures counts places freed per second: the rate at which the line
// moves, from which waits are estimated.
type departures struct {
	counts [departureRing]uint32
	sec    int64 // the Unix second counts[sec%departureRing] belongs to
	since  int64 // the second of the first departure; 0 before
	steady bool  // the rate has held across two windows since it was last 0
}

// add counts n places freed at now.
func (d *departures) add(now time.Time, n int) {
	if n > 0 && d.since == 0 {
		d.since = now.Unix()
	}
	d.advance(now.Unix())
	d.counts[d.sec%departureRing] += uint32(n)
}

// advance moves the ring to sec, clearing the seconds skipped.
func (d *departures) advance(sec int64) {
	if d.sec == 0 {
		d.sec = sec
	}
	for s := d.sec + 1; s <= sec && s <= d.sec+departureRing; s++ {
		d.counts[s%departureRing] = 0
	}
	d.sec = max(d.sec, sec)
}

// rate returns places freed per second (see departureWindow), the current
// second included; 0 while too few departures were seen.
func (d *departures) rate(now time.Time) float64 {
	r, _, _ := d.window(now)
	return r
}

// steadyRate is rate once it has held: until the rates of two consecutive
// windows agree within steadyTolerance, it returns 0, so that a room that
// has only started to empty (its shortest visits ending first, the rate
// still rising toward its level) tells no wait rather than a wrong one.
// Once steady, it stays so until the rate falls to 0.
func (d *departures) steadyRate(now time.Time) float64 {
	r, span, known := d.window(now)
	if r == 0 {
		d.steady = false
		return 0
	}
	if !d.steady {
		if known < 2*span {
			return 0
		}
		sec := now.Unix()
		var n uint32
		for s := span; s < 2*span; s++ {
			n += d.counts[(sec-s)%departureRing]
		}
		before := float64(n) / float64(span)
		if n < minDepartures || math.Abs(r-before) > steadyTolerance*r {
			return 0
		}
		d.steady = true
	}
	return r
}

// window is the departure rate over the latest window of span seconds,
// and how many seconds since the first departure are known.
func (d *departures) window(now time.Time) (r float64, span, known int64) {
	if d.since == 0 {
		return 0, 0, 0
	}
	sec := now.Unix()
	d.advance(sec)
	known = min(sec-d.since+1, departureRing)
	var n uint32
	for span < known && (span < departureWindow || n < minDepartures) {
		n += d.counts[(sec-span)%departureRing]
		span++
	}
	if n < minDepartures {
		return 0, span, known
	}
	return float64(n) / float64(max(span, minDepartureSpan)), span, known
}
