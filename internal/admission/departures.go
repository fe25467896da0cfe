package admission

import "time"

// departureWindow is how far back the departure rate looks.
const departureWindow = 60

// departures counts places freed per second over the last minute: the
// rate at which the line moves, from which waits are estimated.
type departures struct {
	counts [departureWindow]uint32
	sec    int64 // the Unix second counts[sec%window] belongs to
	since  int64 // the first second counted
}

// add counts n places freed at now.
func (d *departures) add(now time.Time, n int) {
	d.advance(now.Unix())
	d.counts[d.sec%departureWindow] += uint32(n)
}

// advance moves the window to sec, clearing the seconds skipped.
func (d *departures) advance(sec int64) {
	if d.since == 0 {
		d.since, d.sec = sec, sec
	}
	for s := d.sec + 1; s <= sec && s <= d.sec+departureWindow; s++ {
		d.counts[s%departureWindow] = 0
	}
	d.sec = max(d.sec, sec)
}

// rate returns places freed per second over the window (or since the first
// count, when younger), the current second excluded; 0 when unknown.
func (d *departures) rate(now time.Time) float64 {
	sec := now.Unix()
	d.advance(sec)
	span := min(sec-d.since, departureWindow-1)
	if span <= 0 {
		return 0
	}
	var n uint32
	for s := sec - span; s < sec; s++ {
		n += d.counts[s%departureWindow]
	}
	return float64(n) / float64(span)
}
