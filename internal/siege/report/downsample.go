package report

import "math"

// envelope reduces a line of more than limit points to at most limit: the
// points fall into limit/2 buckets, and each bucket keeps its lowest and its
// highest point in time order, so a one-second spike still shows. A bucket
// with no finite value stays a gap.
func envelope(xs, ys []float64, limit int) ([]float64, []float64) {
	if len(ys) <= limit {
		return xs, ys
	}
	size := int(math.Ceil(float64(len(ys)) / float64(limit/2)))
	var ox, oy []float64
	for start := 0; start < len(ys); start += size {
		end := min(start+size, len(ys))
		lo, hi := extremes(ys[start:end])
		switch {
		case lo < 0:
			ox, oy = append(ox, xs[(start+end-1)/2]), append(oy, math.NaN())
		case lo == hi:
			ox, oy = append(ox, xs[start+lo]), append(oy, ys[start+lo])
		default:
			a, b := min(lo, hi), max(lo, hi)
			ox = append(ox, xs[start+a], xs[start+b])
			oy = append(oy, ys[start+a], ys[start+b])
		}
	}
	return ox, oy
}

// extremes returns the indexes of the lowest and highest finite values of
// ys, or -1, -1 if there is none.
func extremes(ys []float64) (lo, hi int) {
	lo, hi = -1, -1
	for i, v := range ys {
		if !finite(v) {
			continue
		}
		if lo < 0 || v < ys[lo] {
			lo = i
		}
		if hi < 0 || v > ys[hi] {
			hi = i
		}
	}
	return lo, hi
}

// bucketMeans reduces a series of more than limit points to limit by averaging
// consecutive buckets; stacked areas use it, as their layers must share xs.
// Non-finite values count as zero.
func bucketMeans(xs, ys []float64, limit int) ([]float64, []float64) {
	if len(ys) <= limit {
		return xs, ys
	}
	size := int(math.Ceil(float64(len(ys)) / float64(limit)))
	var ox, oy []float64
	for start := 0; start < len(ys); start += size {
		end := min(start+size, len(ys))
		sum, sx := 0.0, 0.0
		for i := start; i < end; i++ {
			if finite(ys[i]) {
				sum += ys[i]
			}
			sx += xs[i]
		}
		n := float64(end - start)
		ox, oy = append(ox, sx/n), append(oy, sum/n)
	}
	return ox, oy
}

// positiveRange returns the smallest and largest finite positive values of
// ss, or 0, 0 if there is none.
func positiveRange(ss []series) (lo, hi float64) {
	for _, s := range ss {
		for _, v := range s.Y {
			if !finite(v) || v <= 0 {
				continue
			}
			if lo == 0 || v < lo {
				lo = v
			}
			hi = math.Max(hi, v)
		}
	}
	return lo, hi
}

// maxFinite returns the largest finite value of ss, or 0.
func maxFinite(ss []series) float64 {
	m := 0.0
	for _, s := range ss {
		for _, v := range s.Y {
			if finite(v) {
				m = math.Max(m, v)
			}
		}
	}
	return m
}

// hasFinite reports whether any value of ss can be drawn.
func hasFinite(ss []series, log bool) bool {
	for _, s := range ss {
		for _, v := range s.Y {
			if finite(v) && (!log || v > 0) {
				return true
			}
		}
	}
	return false
}
