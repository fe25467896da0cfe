package detect

import (
	"math"
	"math/bits"
)

// A HyperLogLog sketch is a slice of 2^p one-byte registers; these
// functions work on any precision so that the per-second total (p=12,
// ±1.6%) and the per-entry sketches (p=6 or 8, ±13% or ±6.5%) share one
// implementation. Hashes must be uniformly distributed 64-bit values.

// hllAdd records hash h in regs (len(regs) = 2^p).
func hllAdd(regs []uint8, p uint8, h uint64) {
	i := h >> (64 - p)
	w := h<<p | 1<<(p-1) // the guard bit caps the rank at 64-p+1
	if r := uint8(bits.LeadingZeros64(w)) + 1; r > regs[i] {
		regs[i] = r
	}
}

// hllMerge folds src into dst (same precision).
func hllMerge(dst, src []uint8) {
	for i, r := range src {
		if r > dst[i] {
			dst[i] = r
		}
	}
}

// hllCount estimates the number of distinct hashes added to regs, with the
// linear-counting correction for small cardinalities.
func hllCount(regs []uint8) float64 {
	m := float64(len(regs))
	var sum float64
	zeros := 0
	for _, r := range regs {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	e := hllAlpha(m) * m * m / sum
	if e <= 2.5*m && zeros > 0 {
		return m * math.Log(m/float64(zeros))
	}
	return e
}

func hllAlpha(m float64) float64 {
	switch m {
	case 16:
		return 0.673
	case 32:
		return 0.697
	case 64:
		return 0.709
	}
	return 0.7213 / (1 + 1.079/m)
}
