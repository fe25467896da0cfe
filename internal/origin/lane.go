package origin

import (
	"context"
	"time"
)

// Lane is the share of an origin's slots a fetch competes for. Objects the
// stream lists or the cache has seen go in LaneKnown and are served first;
// the rest go in LaneUnknown, which may hold at most Upstream.UnknownShare
// of the slots while known traffic flows and waits in a bounded queue, so
// that a flood of misses for names nobody listed can never starve a
// viewer's segment.
type Lane uint8

// The lanes. LaneKnown is the zero value: a fetch that names no lane is
// known, as every fetch was before lanes existed.
const (
	LaneKnown Lane = iota
	LaneUnknown
	numLanes
)

// String returns "known" or "unknown", as exported in metrics.
func (l Lane) String() string {
	switch l {
	case LaneKnown:
		return "known"
	case LaneUnknown:
		return "unknown"
	}
	return "invalid"
}

// Lane tuning with no configuration key.
const (
	// knownRecency is how long after the last known fetch the unknown lane
	// stays capped. Past it the unknown lane may use every slot, so an
	// edge whose traffic is all unknown (an on-demand tree without
	// manifests) is not throttled for nothing.
	knownRecency = time.Second
	// unknownQueuePerSlot and unknownQueueMin bound the unknown lane's
	// queue: 4 waiting fetches per slot it may hold, at least 16. Beyond
	// that a fetch is refused at once with ErrLaneFull rather than left to
	// wait out the queue timeout while holding a client.
	unknownQueuePerSlot = 4
	unknownQueueMin     = 16
)

type laneKey struct{}

// WithLane returns a context whose fetches go in lane l.
func WithLane(ctx context.Context, l Lane) context.Context {
	return context.WithValue(ctx, laneKey{}, l)
}

// LaneOf returns the lane of fetches made under ctx: LaneKnown unless
// WithLane said otherwise.
func LaneOf(ctx context.Context) Lane {
	if l, ok := ctx.Value(laneKey{}).(Lane); ok && l < numLanes {
		return l
	}
	return LaneKnown
}

// unknownSlots is how many of limit slots the unknown lane may hold while
// known traffic flows: share of them, at least one so that it always makes
// progress (a known fetch then waits at most for one unknown fetch to end).
func unknownSlots(limit int, share float64) int {
	return min(max(int(share*float64(limit)), 1), limit)
}

// unknownQueue is the most fetches that may wait in the unknown lane.
func unknownQueue(limit int, share float64) int {
	return max(unknownQueuePerSlot*unknownSlots(limit, share), unknownQueueMin)
}
