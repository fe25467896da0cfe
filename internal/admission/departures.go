package admission

import "time"

// departureRing is how far back departures are remembered, in seconds.
const departureRing = 120

// The departure rate the room reports (Snapshot, metrics) is taken over the
// last departureWindow seconds, or further back (up to departureRing) until
// it rests on minDepartures, or, early on, since the first departure (at
// least minDepartureSpan); 0 below minDepartures. Waits come from the life
// table (lifetable.go), which needs minDepartures too.
const (
	departureWindow  = 15
	minDepartureSpan = 3
	minDepartures    = 8
)

// departures counts places freed per second: the rate at which the line
// moves.
type departures struct {
	counts [departureRing]uint32
	sec    int64 // the Unix second counts[sec%departureRing] belongs to
	since  int64 // the second of the first departure; 0 before
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
	if d.since == 0 {
		return 0
	}
	sec := now.Unix()
	d.advance(sec)
	known := min(sec-d.since+1, departureRing)
	var n uint32
	span := int64(0)
	for span < known && (span < departureWindow || n < minDepartures) {
		n += d.counts[(sec-span)%departureRing]
		span++
	}
	if n < minDepartures {
		return 0
	}
	return float64(n) / float64(max(span, minDepartureSpan))
}
