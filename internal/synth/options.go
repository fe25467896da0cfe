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
	// MaxRenditions is how many renditions the embedded loop has (240p,
	// 360p, 480p).
	MaxRenditions = 3
	// MaxConcurrentLimit and MaxQueueLimit bound the capacity options.
	MaxConcurrentLimit = 100_000
	MaxQueueLimit      = 1_000_000
)

// ErrInvalidOption is wrapped by every error Options.Validate returns.
var ErrInvalidOption = errors.New("invalid synth option")

// Options configure the synthetic origin. The zero value is valid and gives
// 2-second segments of every rendition in a 6-segment window, no padding,
// no service time and no limit on the requests served at once.
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
	// Renditions is how many renditions the live channel offers, the
	// lowest first (1: 240p; 2: 240p and 360p). Zero means all
	// MaxRenditions.
	Renditions int
	// Latency is every request's service time: waited before the answer
	// (inside its MaxConcurrent slot, when there is a limit), for
	// slow-origin tests. Zero means none; at most MaxLatency (1m).
	Latency time.Duration
	// MaxConcurrent is how many requests the origin serves at once, to
	// play a weak origin: with Latency 20ms, 8 serve about 400 requests/s.
	// A request beyond it waits in a queue of MaxQueue, and beyond that is
	// refused at once with 503 (counted, see Stats.Overloaded). Zero means
	// no limit; at most MaxConcurrentLimit.
	MaxConcurrent int
	// MaxQueue is how many requests may wait for one of the MaxConcurrent
	// slots. Zero means none wait: a request finding every slot busy is
	// refused. It needs MaxConcurrent; at most MaxQueueLimit.
	MaxQueue int
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
	return o.validateCapacity()
}

// validateCapacity checks Renditions, MaxConcurrent and MaxQueue.
func (o Options) validateCapacity() error {
	if o.Renditions < 0 || o.Renditions > MaxRenditions {
		return fmt.Errorf("%w: Renditions %d: must be from 1 to %d (0 for all %d)",
			ErrInvalidOption, o.Renditions, MaxRenditions, MaxRenditions)
	}
	if o.MaxConcurrent < 0 || o.MaxConcurrent > MaxConcurrentLimit {
		return fmt.Errorf("%w: MaxConcurrent %d: must be from 1 to %d (0 for no limit)",
			ErrInvalidOption, o.MaxConcurrent, MaxConcurrentLimit)
	}
	if o.MaxQueue < 0 || o.MaxQueue > MaxQueueLimit {
		return fmt.Errorf("%w: MaxQueue %d: must be from 0 to %d", ErrInvalidOption, o.MaxQueue, MaxQueueLimit)
	}
	if o.MaxQueue > 0 && o.MaxConcurrent == 0 {
		return fmt.Errorf("%w: MaxQueue %d: needs MaxConcurrent (requests wait for a slot only when slots are limited)",
			ErrInvalidOption, o.MaxQueue)
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
	if o.Renditions == 0 {
		o.Renditions = MaxRenditions
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}
