package admission

import (
	"math"
	"sort"
	"time"
)

// The life table learns how long places are held, from admission to the
// place freed, as a hazard by age (deaths ÷ time spent at each age, the
// actuarial estimate, which counts the sessions still open as well as the
// ended ones), and projects from it and the ages of the sessions open when
// the next places will free up: each place freed is taken again at once by
// the head of the line, and the new session ages like the others. Unlike a
// departure rate, the projection follows a room that has just filled: its
// first sessions leave over the spread of their lifetimes, their
// replacements start leaving a shortest lifetime later, and the rate rises
// (and swings) for several turnovers before it settles.
const (
	lifeBins = 128 // age bins; their width doubles as older ages are seen
	// lifeHalfLife is how fast old observations fade, so that the table
	// follows a change of audience (half time, the end of a match).
	lifeHalfLife = 10 * time.Minute
	// lifeKnown is the most survival the table may leave unexplained at the
	// oldest age it has seen: beyond it the hazard is extrapolated, so the
	// room tells waits only once most of its sessions' lifetimes were seen.
	lifeKnown = 0.1
	// projectSteps bounds a projection's length in bins' widths; further
	// waits go on at the rate of its last step.
	projectSteps = 2048
)

// lifetable is a room's life table and its latest projection. The room's
// sweep fills it (begin, then alive or ended for every session) and then
// projects.
type lifetable struct {
	width    float64               // seconds per age bin, a power of two, at least 1
	deaths   [lifeBins]float64     // places freed at each age (decaying)
	exposure [lifeBins]float64     // session-seconds spent at each age (decaying)
	open     [lifeBins]float64     // sessions open now, by age
	dt       float64               // seconds since the previous sweep
	died     float64               // deaths seen, decaying like the table
	curve    [projectSteps]float64 // expected places freed by the end of each step
	steps    int                   // steps in curve; 0: no projection
	tailRate float64               // places freed per second after the last step
}

// begin starts a sweep dt after the previous one: old observations fade
// and the open sessions are counted anew.
func (lt *lifetable) begin(dt time.Duration) {
	if lt.width == 0 {
		lt.width = 1
	}
	lt.dt = dt.Seconds()
	f := math.Exp2(-lt.dt / lifeHalfLife.Seconds())
	for b := range lifeBins {
		lt.deaths[b] *= f
		lt.exposure[b] *= f
		lt.open[b] = 0
	}
	lt.died *= f
}

// alive counts a session open at age (seconds) during the last dt.
func (lt *lifetable) alive(age float64) {
	b := lt.bin(age)
	lt.exposure[b] += lt.dt
	lt.open[b]++
}

// ended counts a session that freed its place at age.
func (lt *lifetable) ended(age float64) {
	b := lt.bin(age)
	lt.exposure[b] += lt.dt / 2
	lt.deaths[b]++
	lt.died++
}

// bin returns age's bin, widening the bins (merging pairs) while age is
// beyond the last one.
func (lt *lifetable) bin(age float64) int {
	for age >= lifeBins*lt.width {
		for b := range lifeBins / 2 {
			lt.deaths[b] = lt.deaths[2*b] + lt.deaths[2*b+1]
			lt.exposure[b] = lt.exposure[2*b] + lt.exposure[2*b+1]
			lt.open[b] = lt.open[2*b] + lt.open[2*b+1]
		}
		for b := lifeBins / 2; b < lifeBins; b++ {
			lt.deaths[b], lt.exposure[b], lt.open[b] = 0, 0, 0
		}
		lt.width *= 2
	}
	return int(max(age, 0) / lt.width)
}

// project forecasts the places freed from now on, with starting (places
// granted and not yet taken) counted as sessions of age 0, until need
// places have freed or projectSteps. It leaves no projection while the
// table is not yet trusted (see lifeKnown) or too few places freed.
func (lt *lifetable) project(starting int, need float64) {
	lt.steps = 0
	surv, ok := lt.survival()
	if !ok {
		return
	}
	n := lt.open
	n[0] += float64(starting)
	var total float64
	for k := range projectSteps {
		freed := 0.0
		last := n[lifeBins-1] * surv[lifeBins-1]
		freed += n[lifeBins-1] - last
		for b := lifeBins - 2; b >= 0; b-- {
			kept := n[b] * surv[b]
			freed += n[b] - kept
			n[b+1] = kept
		}
		n[lifeBins-1] += last
		n[0] = freed
		total += freed
		lt.curve[k] = total
		lt.steps = k + 1
		lt.tailRate = freed / lt.width
		if total >= need {
			break
		}
	}
}

// survival returns, for each bin, the share of sessions that live through
// it: 1 - q, where q is the actuarial probability of leaving within it
// (deaths ÷ sessions at risk, those dying counted for half their bin), from
// the bin's own record or, beyond the ages seen, from the oldest quarter
// seen. ok is false while the table is not trusted: too few deaths, or
// more than lifeKnown of the sessions living past the oldest age seen.
func (lt *lifetable) survival() (surv [lifeBins]float64, ok bool) {
	if lt.died < minDepartures {
		return surv, false
	}
	top := -1
	for b := range lifeBins {
		if lt.exposure[b] > 0 {
			top = b
		}
	}
	var d, e float64
	for b := top - top/4; b <= top && b >= 0; b++ {
		d, e = d+lt.deaths[b], e+lt.exposure[b]
	}
	if d == 0 {
		return surv, false
	}
	tail := lt.leaving(d, e)
	left := 1.0
	for b := range lifeBins {
		q := tail
		if b <= top && lt.exposure[b] >= lt.width {
			q = lt.leaving(lt.deaths[b], lt.exposure[b])
		}
		if b <= top {
			left *= 1 - q
		}
		surv[b] = 1 - q
	}
	return surv, left <= lifeKnown
}

// leaving is the probability of leaving within a bin where d sessions
// left out of exposure e session-seconds.
func (lt *lifetable) leaving(d, e float64) float64 {
	return min(d/(e/lt.width+d/2), 1)
}

// wait returns how long until ahead more places have freed, by the last
// projection; negative without one.
func (lt *lifetable) wait(ahead int) time.Duration {
	if lt.steps == 0 {
		return -1
	}
	p := float64(ahead)
	k := sort.SearchFloat64s(lt.curve[:lt.steps], p)
	prev := 0.0
	if k > 0 {
		prev = lt.curve[k-1]
	}
	var s float64
	if k == lt.steps {
		if lt.tailRate <= 0 {
			return -1
		}
		s = float64(k)*lt.width + (p-prev)/lt.tailRate
	} else {
		s = (float64(k) + (p-prev)/(lt.curve[k]-prev)) * lt.width
	}
	return time.Duration(s * float64(time.Second))
}
