package degrade

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Level is a degradation level: 0 is none; each step drops one more top
// rendition, for newcomers first, then for everyone.
type Level int

// Drops returns how many of the top renditions a session loses at this
// level: a newcomer (a session admitted while degraded) loses ceil(l/2),
// everyone else floor(l/2), so newcomers go first and everyone follows a
// step later (docs/admission.md: level 1 → 1 and 0, 2 → 1 and 1, 3 → 2 and
// 1...). The caller clamps to the ladder; rewrite.Ladder.Drop does, and
// always keeps one rendition.
func (l Level) Drops(newcomer bool) int {
	if l <= 0 {
		return 0
	}
	if newcomer {
		return int(l+1) / 2
	}
	return int(l) / 2
}

// MaxFor returns the level at which everyone is down to the lowest of
// renditions renditions: a useful Settings.Max.
func MaxFor(renditions int) Level {
	return Level(2 * max(renditions-1, 0))
}

// Defaults for the zero fields of Settings; they match the defaults of
// the admission.degrade configuration.
const (
	DefaultHigh = 0.9
	DefaultLow  = 0.7
	DefaultHold = 5 * time.Second
	DefaultMax  = Level(8) // everyone down four renditions
)

// ErrSettings is wrapped by the errors of Settings.Validate.
var ErrSettings = errors.New("degrade: bad settings")

// Settings tunes a Controller.
type Settings struct {
	// High is the share of the cap above which the level rises. Zero:
	// DefaultHigh; in (0, 1].
	High float64
	// Low is the share of the cap under which the level falls. Zero:
	// DefaultLow; in (0, High).
	Low float64
	// Hold is the least time between two level changes, so that the level
	// does not flap. Zero: DefaultHold; not negative.
	Hold time.Duration
	// Max is the highest level. Zero: DefaultMax (see MaxFor); not negative.
	Max Level
}

// withDefaults returns s with its zero fields filled in.
func (s Settings) withDefaults() Settings {
	if s.High == 0 {
		s.High = DefaultHigh
	}
	if s.Low == 0 {
		s.Low = DefaultLow
	}
	if s.Hold == 0 {
		s.Hold = DefaultHold
	}
	if s.Max == 0 {
		s.Max = DefaultMax
	}
	return s
}

// Validate checks s once its zero fields are filled with the defaults.
func (s Settings) Validate() error {
	s = s.withDefaults()
	switch {
	case !(s.High > 0 && s.High <= 1):
		return fmt.Errorf("%w: high %g: want a share of the cap in (0, 1]", ErrSettings, s.High)
	case !(s.Low > 0 && s.Low < s.High):
		return fmt.Errorf("%w: low %g: want a share of the cap in (0, high=%g)", ErrSettings, s.Low, s.High)
	case s.Hold < 0:
		return fmt.Errorf("%w: hold %v: want a duration >= 0", ErrSettings, s.Hold)
	case s.Max < 0:
		return fmt.Errorf("%w: max %d: want a level >= 0", ErrSettings, s.Max)
	}
	return nil
}

// Controller keeps the degradation level of a site. Update, called on a
// ticker with the measured egress and the cap, moves the level one step
// at a time: up while egress is over High × cap, down while it is under
// Low × cap, at most once per Hold (between the two thresholds the level
// stays: hysteresis). Level and Stats are lock-free and safe for any
// number of readers; Update and SetSettings may be called from any
// goroutine.
type Controller struct {
	mu         sync.Mutex // serializes Update and SetSettings; protects settings and lastChange
	settings   Settings   // defaults filled in
	lastChange time.Time  // zero until the first change

	level   atomic.Int64
	egress  atomic.Uint64 // math.Float64bits of the last egress, bit/s
	capBps  atomic.Uint64 // math.Float64bits of the last cap, bit/s
	changes atomic.Uint64
	changed atomic.Int64 // Unix nanoseconds of the last change; 0 when none
}

// NewController returns a Controller at level 0, or an error wrapping
// ErrSettings when s is not valid.
func NewController(s Settings) (*Controller, error) {
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("new degrade controller: %w", err)
	}
	return &Controller{settings: s.withDefaults()}, nil
}

// SetSettings applies s (a reload) and returns the settings now in force,
// defaults filled in. When s is not valid the old settings stay and the
// error says why. The level is kept; a level over the new Max comes down
// at the next Update.
func (c *Controller) SetSettings(s Settings) (applied Settings, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := s.Validate(); err != nil {
		return c.settings, fmt.Errorf("set degrade settings: %w", err)
	}
	c.settings = s.withDefaults()
	return c.settings, nil
}

// Level returns the current level.
func (c *Controller) Level() Level { return Level(c.level.Load()) }

// Update takes the egress measured at now and the cap (both in bit/s) and
// returns the level, changed by at most one step. A cap of zero or less
// means no cap: the level goes to 0 at once. Egress that is not a number
// changes nothing.
func (c *Controller) Update(now time.Time, egressBps, capBps float64) Level {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.egress.Store(math.Float64bits(egressBps))
	c.capBps.Store(math.Float64bits(capBps))
	cur := c.Level()
	next := c.nextLocked(now, cur, egressBps, capBps)
	if next != cur {
		c.level.Store(int64(next))
		c.lastChange = now
		c.changed.Store(now.UnixNano())
		c.changes.Add(1)
	}
	return next
}

// nextLocked returns the level that follows cur.
func (c *Controller) nextLocked(now time.Time, cur Level, egress, capBps float64) Level {
	s := c.settings
	switch {
	case capBps <= 0 || math.IsNaN(capBps):
		return 0 // no cap, nothing to protect: no reason to wait
	case cur > s.Max:
		return s.Max // lowered by SetSettings
	case !c.lastChange.IsZero() && now.Sub(c.lastChange) < s.Hold:
		return cur
	case egress > s.High*capBps && cur < s.Max:
		return cur + 1
	case egress < s.Low*capBps && cur > 0:
		return cur - 1
	}
	return cur
}

// Stats is a snapshot of a Controller, as plain values. Its fields are
// read one by one, not under one lock: they may be a tick apart.
type Stats struct {
	Level     Level
	EgressBps float64   // egress given to the last Update, bit/s
	CapBps    float64   // cap given to the last Update, bit/s; 0: no cap
	Changes   uint64    // level changes since the Controller was made
	Changed   time.Time // when the level last changed; zero when never
}

// Stats returns a snapshot of the controller.
func (c *Controller) Stats() Stats {
	s := Stats{
		Level:     c.Level(),
		EgressBps: math.Float64frombits(c.egress.Load()),
		CapBps:    math.Float64frombits(c.capBps.Load()),
		Changes:   c.changes.Load(),
	}
	if ns := c.changed.Load(); ns != 0 {
		s.Changed = time.Unix(0, ns)
	}
	return s
}
