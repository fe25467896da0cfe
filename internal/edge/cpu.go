package edge

import (
	"sync/atomic"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/detect"
	"github.com/rempart/rempart/internal/filter"
	"github.com/rempart/rempart/internal/sched"
)

// cpuShare watches the CPU the edge gets and, while it is saturated,
// shares what the edge serves fairly among sources (filter/fair.go,
// shield.pressure). Its update runs on the shield's tick alone.
type cpuShare struct {
	gauge *sched.Gauge
	cfg   atomic.Pointer[config.Pressure] // swapped on reload
}

func newCPUShare(p config.Pressure) *cpuShare {
	c := &cpuShare{gauge: sched.New(p.SchedLatency)}
	c.cfg.Store(&p)
	return c
}

// reload takes a new shield.pressure.
func (c *cpuShare) reload(p config.Pressure) {
	c.gauge.SetThreshold(p.SchedLatency)
	c.cfg.Store(&p)
}

// update sets the shield's fair share from r, the last second's
// scheduling latency (c.gauge.Update()), and st, the detector's account of
// that second (nil without a detector, and then no share: there is no
// rate to share out).
func (c *cpuShare) update(shield *filter.Shield, r sched.Reading, st *detect.Status) {
	p := c.cfg.Load()
	rate := 0.0
	if r.Saturated && st != nil && (p.Enabled == nil || *p.Enabled) {
		rate = filter.FairRate(st.Evidence.Rate, st.Evidence.Sources, p.Share)
	}
	shield.SetFairShare(rate)
}
