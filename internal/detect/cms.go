package detect

// Count-min sketches of player-like requests, keyed by source, prefix and
// fingerprint hashes alike (the keys are salted apart). They answer "how
// much of the legitimate traffic would a mitigation on this key hit?" for
// any key, not only the heavy ones, in fixed memory; their error only ever
// overestimates, which errs towards not blocking.
const (
	cmsDepth = 4
	cmsWidth = 4096 // 12 bits of each 16-bit slice of the hash
)

// cms counts one second.
type cms [cmsDepth * cmsWidth]uint32

// cmsF is the decayed baseline.
type cmsF [cmsDepth * cmsWidth]float32

func cmsCell(h uint64, row int) int {
	return row*cmsWidth + int((h>>(16*row))&(cmsWidth-1))
}

func (c *cms) add(h uint64) {
	for row := range cmsDepth {
		c[cmsCell(h, row)]++
	}
}

func (c *cms) query(h uint64) uint32 {
	v := c[cmsCell(h, 0)]
	for row := 1; row < cmsDepth; row++ {
		v = min(v, c[cmsCell(h, row)])
	}
	return v
}

func (c *cms) merge(o *cms) {
	for i, v := range o {
		c[i] += v
	}
}

// learn moves the baseline towards one second's counts, scaled to a rate
// by scale, with weight a.
func (c *cmsF) learn(s *cms, a, scale float32) {
	for i, v := range s {
		c[i] += a * (float32(v)*scale - c[i])
	}
}

func (c *cmsF) query(h uint64) float64 {
	v := c[cmsCell(h, 0)]
	for row := 1; row < cmsDepth; row++ {
		v = min(v, c[cmsCell(h, row)])
	}
	return float64(v)
}
