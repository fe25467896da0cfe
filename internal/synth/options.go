package synth

import (
	"errors"
	"fmt"
	"time"
)

// Defaults and bounds of Options.
const (
	DefaultSegmentDuration = 2 * time.Second
	DefaultWindow          = 6
	MinSegmentDuration     = time.Second
	MaxSegmentDuration     = 10 * time.Second
	MinWindow              = 3
	MaxWindow              = 100
	MaxSegmentBytes        = 64 << 20
	MaxLatency             = time.Minute
)

// ErrInvalidOption is wrapped by every error Options.Validate returns.
var ErrInvalidOption = errors.New("invalid synth option")

// Options configure the synthetic origin. The zero value is valid and gives
// 2-second segments in a 6-segment window, no padding and no added latency.
type Options struct {
	// SegmentDuration is the length of every live segment, whole seconds from
	// 1s to 10s. Zero means DefaultSegmentDuration (2s).
	SegmentDuration time.Duration
	// Window is how many segments a media playlist lists, 3 to 100. Zero
	// means DefaultWindow (6).
	Window int
	// SegmentBytes, when positive, pads every live segment with null TS
	// packets (PID 0x1FFF) to at least this many bytes, for heavy-segment
	// load tests. Zero means no padding; at most MaxSegmentBytes (64 MiB).
	SegmentBytes int
	// Latency is waited before every response, for slow-origin tests.
	// Zero means none; at most MaxLatency (1m).
	Latency time.Duration
	// Now is the clock that places the live edge. Nil means time.Now.
	Now func() time.Time
}

// Validate reports the first option that is out of range, naming the
// option, its value and the valid range. Zero values are valid (defaults).
func (o Options) Validate() error {
	d := o.SegmentDuration
	if d != 0 && (d < MinSegmentDuration || d > MaxSegmentDuration || d%time.Second != 0) {
		return fmt.Errorf("%w: SegmentDuration %v: must be whole seconds from %v to %v (0 for %v)",
			ErrInvalidOption, d, MinSegmentDuration, MaxSegmentDuration, DefaultSegmentDuration)
	}
	if o.Window != 0 && (o.Window < MinWindow || o.Window > MaxWindow) {
		return fmt.Errorf("%w: Window %d: must be from %d to %d segments (0 for %d)",
			ErrInvalidOption, o.Window, MinWindow, MaxWindow, DefaultWindow)
	}
	if o.SegmentBytes < 0 || o.SegmentBytes > MaxSegmentBytes {
		return fmt.Errorf("%w: SegmentBytes %d: must be from 0 to %d",
			ErrInvalidOption, o.SegmentBytes, MaxSegmentBytes)
	}
	if o.Latency < 0 || o.Latency > MaxLatency {
		return fmt.Errorf("%w: Latency %v: must be from 0 to %v", ErrInvalidOption, o.Latency, MaxLatency)
	}
	return nil
}

// withDefaults returns o with every zero field replaced by its default.
func (o Options) withDefaults() Options {
	if o.SegmentDuration == 0 {
		o.SegmentDuration = DefaultSegmentDuration
	}
	if o.Window == 0 {
		o.Window = DefaultWindow
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}
