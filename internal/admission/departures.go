package admission

import "time"

// departureWindow is how far back the departure rate looks.
const departureWindow = 30

// departures counts places freed per second over the last minute: the
// rate at which the line moves, from which waits are estimated.
type departures struct {
	counts [departureWindow]uint32
	sec    int64 // the Unix second counts[sec%window] belongs to
	since  int64 // the second of the first departure; 0 before
}

// minDepartureSpan is the shortest span a rate is taken over, and
// minDepartures the fewest departures it rests on: the first departures
// alone say little (and early on, as the first viewers start leaving, too
// little), so until then the room tells no wait rather than a guess.
const (
	minDepartureSpan = 10
	minDepartures    = 8
)

// add counts n places freed at now.
func (d *departures) add(now time.Time, n int) {
	if n > 0 && d.since == 0 {
		d.since = now.Unix()
	}
	d.advance(now.Unix())
	d.counts[d.sec%departureWindow] += uint32(n)
}

// advance moves the window to sec, clearing the seconds skipped.
func (d *departures) advance(sec int64) {
	if d.sec == 0 {
		d.sec = sec
	}
	for s := d.sec + 1; s <= sec && s <= d.sec+departureWindow; s++ {
		d.counts[s%departureWindow] = 0
	}
	d.sec = max(d.sec, sec)
}

// rate returns places freed per second over the window, or since the
// first departure when that is more recent (at least minDepartureSpan
// seconds), the current second included; 0 while fewer than
// minDepartures are in the window. Counting
// from the first departure, not from the start, keeps the time before
// anyone could leave from dragging the rate down.
func (d *departures) rate(now time.Time) float64 {
	if d.since == 0 {
		return 0
	}
	sec := now.Unix()
	d.advance(sec)
	span := min(sec-d.since+1, departureWindow)
	var n uint32
	for s := sec - span + 1; s <= sec; s++ {
		n += d.counts[s%departureWindow]
	}
	if n < minDepartures {
		return 0
	}
	return float64(n) / float64(max(span, minDepartureSpan))
}
