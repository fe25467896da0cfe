package admission

import (
	"time"

	"github.com/rempart/rempart/internal/config"
)

// egress measures what the site sends and derives the degradation level.
type egress struct{}

func (e *egress) init(config.Degrade) {}

func (e *egress) tick(time.Time, float64) {}

func (e *egress) level() int { return 0 }

func (e *egress) mbps(time.Time) float64 { return 0 }
