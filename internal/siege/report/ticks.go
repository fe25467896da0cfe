package report

import (
	"math"
	"strconv"
	"strings"
)

// niceStep is the 1, 2 or 5 × 10^k step that cuts span into about n parts.
func niceStep(span float64, n int) float64 {
	if !(span > 0) || math.IsInf(span, 0) {
		return 1
	}
	raw := span / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5} {
		if raw <= m*mag {
			return m * mag
		}
	}
	return 10 * mag
}

// linearTicks returns ticks from 0 to a nice top at or above max, and the top.
func linearTicks(max float64, n int) (ticks []float64, top float64) {
	if !(max > 0) || math.IsInf(max, 0) {
		max = 1
	}
	step := niceStep(max, n)
	top = math.Ceil(max/step-1e-9) * step
	for i := 0.0; i*step <= top*(1+1e-9); i++ {
		ticks = append(ticks, i*step)
	}
	return ticks, top
}

// timeSteps are the tick steps, in seconds, of a time axis: round numbers of
// seconds, minutes and hours rather than powers of ten.
var timeSteps = []float64{1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 21600, 43200, 86400}

// timeTicks returns ticks from 0 to max seconds, about n of them, and their step.
func timeTicks(max float64, n int) (ticks []float64, step float64) {
	if !(max > 0) || math.IsInf(max, 0) {
		max = 1
	}
	step = timeSteps[len(timeSteps)-1]
	for _, s := range timeSteps {
		if max/s <= float64(n) {
			step = s
			break
		}
	}
	for t := 0.0; t <= max+1e-9; t += step {
		ticks = append(ticks, t)
	}
	return ticks, step
}

// logTicks returns the ticks of a log axis covering [lo, hi] (both > 0),
// and the axis' ends: whole decades for wide ranges; for narrow ones (three
// decades or less), 1, 2 and 5 times powers of ten, the ends being the
// nearest of those around lo and hi.
func logTicks(lo, hi float64) (ticks []float64, bottom, top float64) {
	e0 := math.Floor(math.Log10(lo))
	e1 := math.Ceil(math.Log10(hi))
	if e1 <= e0 {
		e1 = e0 + 1
	}
	mults := []float64{1}
	if e1-e0 <= 3 {
		mults = []float64{1, 2, 5}
	}
	var all []float64
	for e := e0; e <= e1; e++ {
		for _, m := range mults {
			all = append(all, m*math.Pow(10, e))
		}
	}
	first, last := 0, len(all)-1
	for first+1 < len(all) && all[first+1] <= lo*(1+1e-9) {
		first++
	}
	for last > first+1 && all[last-1] >= hi*(1-1e-9) {
		last--
	}
	ticks = all[first : last+1]
	return ticks, ticks[0], ticks[len(ticks)-1]
}

// tickLabels formats the ticks of a linear axis alike: all with the same
// prefix (k, M, G) when the largest is 10,000 or more, so "5000" never sits
// under "25k". A log axis (log set) formats each tick on its own.
func tickLabels(ticks []float64, log bool) []string {
	top := 0.0
	for _, v := range ticks {
		top = math.Max(top, math.Abs(v))
	}
	labels := make([]string, len(ticks))
	for i, v := range ticks {
		if log {
			top = 10 * math.Abs(v) // 1k, 2k, 5k, 10k
		}
		labels[i] = scaled(v, top)
	}
	return labels
}

// scaled writes v with the metric prefix that suits top.
func scaled(v, top float64) string {
	switch {
	case v == 0:
		return "0"
	case top >= 1e10:
		return trimFloat(v/1e9, 3) + "G"
	case top >= 1e7:
		return trimFloat(v/1e6, 3) + "M"
	case top >= 1e4:
		return trimFloat(v/1e3, 3) + "k"
	default:
		return trimFloat(v, 3)
	}
}

// formatClock writes a time offset for an axis whose ticks are step apart:
// "45s", "5m", "1m30s", "2h", "1h30m".
func formatClock(sec, step float64) string {
	s := int64(math.Round(sec))
	switch {
	case s == 0:
		return "0"
	case step < 60 && s < 60:
		return strconv.FormatInt(s, 10) + "s"
	case step < 60:
		return strconv.FormatInt(s/60, 10) + "m" + pad2(s%60) + "s"
	case step < 3600 && s < 3600:
		return strconv.FormatInt(s/60, 10) + "m"
	default:
		h, m := s/3600, (s%3600)/60
		if m == 0 {
			return strconv.FormatInt(h, 10) + "h"
		}
		return strconv.FormatInt(h, 10) + "h" + pad2(m) + "m"
	}
}

func pad2(n int64) string {
	if n < 10 {
		return "0" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}

// trimFloat formats v with at most prec decimals and no trailing zeros.
func trimFloat(v float64, prec int) string {
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		return "0"
	}
	return s
}
