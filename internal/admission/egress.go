package admission

import (
	"sync/atomic"
	"time"

	"github.com/rempart/rempart/internal/admission/degrade"
	"github.com/rempart/rempart/internal/config"
)

// egress measures what the site sends and derives the degradation level.
type egress struct {
	meter   *degrade.Meter
	ctl     *degrade.Controller
	enabled atomic.Bool
	capped  atomic.Bool // the room has an egress cap
	// since is when the current degradation episode began (Unix
	// nanoseconds; 0 while not degraded): sessions admitted after it are
	// newcomers, who lose renditions first.
	since atomic.Int64
}

func (e *egress) init(d config.Degrade) {
	e.meter = degrade.NewMeter(d.Hold)
	e.ctl, _ = degrade.NewController(settings(d)) // validated by config
	e.enabled.Store(d.Enabled == nil || *d.Enabled)
}

func (e *egress) reload(d config.Degrade) {
	_, _ = e.ctl.SetSettings(settings(d))
	e.enabled.Store(d.Enabled == nil || *d.Enabled)
}

func settings(d config.Degrade) degrade.Settings {
	return degrade.Settings{High: d.High, Low: d.Low, Hold: d.Hold}
}

// tick updates the level from the egress measured at now and the cap in
// Mbit/s (0: none).
func (e *egress) tick(now time.Time, capMbps float64) {
	e.capped.Store(capMbps > 0)
	if !e.enabled.Load() {
		capMbps = 0
	}
	before := e.ctl.Level()
	after := e.ctl.Update(now, e.meter.Rate(now), capMbps*1e6)
	switch {
	case before == 0 && after > 0:
		e.since.Store(now.UnixNano())
	case after == 0:
		e.since.Store(0)
	}
}

// drops returns how many top renditions a session started at started
// loses now.
func (e *egress) drops(started time.Time) int {
	l := e.ctl.Level()
	if l == 0 {
		return 0
	}
	return l.Drops(started.UnixNano() >= e.since.Load())
}

func (e *egress) level() int { return int(e.ctl.Level()) }

func (e *egress) mbps(now time.Time) float64 { return e.meter.Rate(now) / 1e6 }

// mayDegrade reports whether the room has an egress cap and degradation
// on: master playlists are then read for their ladder.
func (r *Room) mayDegrade() bool {
	return r.egress.enabled.Load() && r.egress.capped.Load()
}
