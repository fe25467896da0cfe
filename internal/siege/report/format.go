package report

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// none stands for a value that was not measured, or cannot be shown (NaN).
const none = "—"

// formatInt writes n with thousands separators: 12,345.
func formatInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// formatNum writes v with about four significant digits, without exponent,
// and thousands separators from 1,000 up.
func formatNum(v float64) string {
	switch {
	case !finite(v):
		return none
	case math.Abs(v) >= 1000:
		return formatInt(int64(math.Round(v)))
	case v == 0:
		return "0"
	}
	dec := 3 - int(math.Floor(math.Log10(math.Abs(v))))
	return trimFloat(v, min(max(dec, 0), 6))
}

// formatMs writes a latency given in milliseconds: "0.42 ms", "120 ms", "1.5 s".
func formatMs(ms float64) string {
	switch {
	case !finite(ms):
		return none
	case ms >= 1000:
		return formatNum(roundSig(ms/1000, 3)) + " s"
	default:
		return formatNum(roundSig(ms, 3)) + " ms"
	}
}

// formatP is formatMs of v, one of p's values, or none when p is empty.
func formatP(p Percentiles, v float64) string {
	if p.Count == 0 {
		return none
	}
	return formatMs(v)
}

// roundSig rounds v to n significant digits.
func roundSig(v float64, n int) float64 {
	if v == 0 || !finite(v) {
		return v
	}
	p := math.Pow(10, float64(n)-math.Ceil(math.Log10(math.Abs(v))))
	return math.Round(v*p) / p
}

// formatSeconds writes a length of time: "0s", "12.5s", "2m00s", "1h02m03s".
func formatSeconds(sec float64) string {
	switch {
	case !finite(sec) || sec < 0:
		return none
	case sec < 60:
		return trimFloat(sec, 1) + "s"
	}
	d := time.Duration(math.Round(sec)) * time.Second
	h, m, s := int64(d/time.Hour), int64(d%time.Hour/time.Minute), int64(d%time.Minute/time.Second)
	if h == 0 {
		return strconv.FormatInt(m, 10) + "m" + pad2(s) + "s"
	}
	return strconv.FormatInt(h, 10) + "h" + pad2(m) + "m" + pad2(s) + "s"
}

// formatRatio writes a ratio as a percentage with two decimals: "99.12%".
func formatRatio(r float64) string {
	if !finite(r) {
		return none
	}
	return strconv.FormatFloat(100*r, 'f', 2, 64) + "%"
}

// formatShare writes n/of as a percentage, or none when of is zero.
func formatShare(n, of int64) string {
	if of == 0 {
		return none
	}
	return formatRatio(float64(n) / float64(of))
}

// formatSI writes v with a metric prefix and unit: "2.4 Mb/s", "1.2 GB".
func formatSI(v float64, unit string) string {
	if !finite(v) {
		return none
	}
	for _, p := range []struct {
		f float64
		s string
	}{{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if math.Abs(v) >= p.f {
			return formatNum(roundSig(v/p.f, 3)) + " " + p.s + unit
		}
	}
	return trimFloat(v, 0) + " " + unit
}

// formatTime writes when the run started, in the zone it was recorded in.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return none
	}
	return t.Format("Mon 2 Jan 2006, 15:04:05 MST")
}
