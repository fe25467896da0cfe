package edge

import (
	"testing"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/detect"
	"github.com/rempart/rempart/internal/filter"
	"github.com/rempart/rempart/internal/sched"
)

// TestCPUShare: only a saturated CPU puts sources under a share, sized
// from the detector's last second (share × rate / sources); without a
// detector, or with shield.pressure off, there is none, and a reload takes
// the new share at the next second.
func TestCPUShare(t *testing.T) {
	shield, err := filter.New(config.Shield{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := config.Pressure{Share: 2}
	c := newCPUShare(p)
	st := &detect.Status{Evidence: detect.Evidence{Rate: 3000, Sources: 300}}
	hot, calm := sched.Reading{Saturated: true}, sched.Reading{}
	steps := []struct {
		name string
		r    sched.Reading
		st   *detect.Status
		edit func(*config.Pressure)
		want float64
	}{
		{"calm", calm, st, nil, 0},
		{"saturated: twice the mean", hot, st, nil, 20},
		{"no detector: nothing to share out", hot, nil, nil, 0},
		{"reloaded share", hot, st, func(p *config.Pressure) { p.Share = 3 }, 30},
		{"turned off", hot, st, func(p *config.Pressure) { p.Enabled = new(bool) }, 0},
	}
	for _, s := range steps {
		if s.edit != nil {
			s.edit(&p)
			c.reload(p)
		}
		c.update(shield, s.r, s.st)
		if got := shield.FairShare(); got != s.want {
			t.Errorf("%s: share %v, want %v", s.name, got, s.want)
		}
	}
}
