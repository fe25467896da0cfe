package origin

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// gate bounds the requests in flight to one origin, like a semaphore whose
// size can change while slots are held: lowering the limit takes effect as
// slots are released, raising it wakes waiters at once.
//
// Slots go to two lanes. A free slot goes to the oldest known waiter first;
// an unknown one gets it only when no known fetch waits and the unknown
// lane holds fewer than its share (see unknownSlots), a cap lifted while
// no known fetch came for knownRecency. Within a lane waiters are served
// in arrival order, so a newcomer never overtakes one that queued before
// it; known fetches overtake unknown ones on purpose. The unknown queue is
// bounded (unknownQueue): past it a fetch is refused with ErrLaneFull.
type gate struct {
	share float64          // of the slots the unknown lane may hold; 1: one lane
	now   func() time.Time // reads the clock for knownRecency; tests replace it

	mu          sync.Mutex // guards the fields below
	limit       int        // slots that may be held; at least 1
	held        int        // slots held now, both lanes; above limit just after a cut
	heldUnknown int        // of held, by the unknown lane
	// unknownCeil caps the unknown lane below its share once its fetches
	// fail (the origin chokes on what it is asked: halved at each
	// failure, one more at each success); 0: no ceiling yet.
	unknownCeil int
	lastKnown   time.Time           // the last known acquire
	waiters     [numLanes]list.List // of chan int, buffered 1: the held count once granted
}

// newGate returns a gate of limit slots where the unknown lane may use
// them all (share 1), as one lane would.
func newGate(limit int) *gate {
	return &gate{limit: max(limit, 1), share: 1, now: time.Now}
}

// acquire takes a slot in lane, waiting at most wait or until ctx is done,
// and returns the slots held once it got in (its own included). It
// allocates only when it has to wait. Its errors are ErrOverloaded (wait
// passed), ErrLaneFull (the unknown queue is full) and ctx.Err().
func (g *gate) acquire(ctx context.Context, lane Lane, wait time.Duration) (int, error) {
	g.mu.Lock()
	now := g.now()
	if lane == LaneKnown {
		g.lastKnown = now
	}
	if g.waiters[lane].Len() == 0 && g.mayTakeLocked(lane, now) {
		n := g.takeLocked(lane)
		g.mu.Unlock()
		return n, nil
	}
	if lane == LaneUnknown && g.waiters[lane].Len() >= unknownQueue(g.limit, g.share) {
		g.mu.Unlock()
		return 0, ErrLaneFull
	}
	ready := make(chan int, 1)
	elem := g.waiters[lane].PushBack(ready)
	g.mu.Unlock()
	return g.wait(ctx, lane, wait, ready, elem)
}

// wait blocks until ready is granted, ctx is done or wait passes; on
// giving up it leaves the queue, or hands back a slot granted meanwhile.
func (g *gate) wait(ctx context.Context, lane Lane, wait time.Duration, ready chan int, elem *list.Element) (int, error) {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	var err error
	select {
	case n := <-ready:
		return n, nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-timer.C:
		err = ErrOverloaded
	}
	g.mu.Lock()
	select {
	case n := <-ready:
		// Granted between the timeout and the lock. A caller still there
		// takes the slot rather than throw it away; one that left gives
		// it to the next waiter.
		g.mu.Unlock()
		if ctx.Err() == nil {
			return n, nil
		}
		g.release(lane)
	default:
		g.waiters[lane].Remove(elem)
		g.mu.Unlock()
	}
	return 0, err
}

// release frees a slot of lane and hands free slots to waiters.
func (g *gate) release(lane Lane) {
	g.mu.Lock()
	g.held--
	if lane == LaneUnknown {
		g.heldUnknown--
	}
	g.grantLocked()
	g.mu.Unlock()
}

// setLimit changes the number of slots (at least 1) and returns what it
// applied. Slots held over a lowered limit stay held until released.
func (g *gate) setLimit(limit int) int {
	limit = max(limit, 1)
	g.mu.Lock()
	g.limit = limit
	g.grantLocked()
	g.mu.Unlock()
	return limit
}

// size returns the number of slots.
func (g *gate) size() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.limit
}

// mayTakeLocked reports whether lane may take a free slot now, ignoring its
// own queue: known whenever one is free, unknown only when no known fetch
// waits and the lane is under its cap.
func (g *gate) mayTakeLocked(lane Lane, now time.Time) bool {
	if g.held >= g.limit {
		return false
	}
	if lane == LaneKnown {
		return true
	}
	return g.waiters[LaneKnown].Len() == 0 && g.heldUnknown < g.unknownCapLocked(now)
}

// unknownCapLocked is the most slots the unknown lane may hold now: its
// share while known fetches came within knownRecency, else all of them.
func (g *gate) unknownCapLocked(now time.Time) int {
	capped := g.limit
	if g.share < 1 && now.Sub(g.lastKnown) < knownRecency {
		capped = unknownSlots(g.limit, g.share)
	}
	if g.unknownCeil > 0 {
		capped = min(capped, g.unknownCeil)
	}
	return capped
}

// unknownOutcome adapts the unknown lane's ceiling to how the origin
// answers it: an unknown fetch that failed (5xx, no answer) halves it,
// down to one slot; one that succeeded raises it by one, and once it is
// back to the lane's share the ceiling is gone. A flood of made-up names
// that chokes a weak origin so holds a slot or two of it, not its share of
// a limit sized for a strong one.
func (g *gate) unknownOutcome(failed bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	full := unknownSlots(g.limit, g.share)
	switch {
	case failed && g.unknownCeil == 0:
		g.unknownCeil = max(full/2, 1)
	case failed:
		g.unknownCeil = max(g.unknownCeil/2, 1)
	case g.unknownCeil > 0:
		if g.unknownCeil++; g.unknownCeil >= full {
			g.unknownCeil = 0
		}
		g.grantLocked()
	}
}

// takeLocked gives lane a slot and returns the slots held.
func (g *gate) takeLocked(lane Lane) int {
	g.held++
	if lane == LaneUnknown {
		g.heldUnknown++
	}
	return g.held
}

// grantLocked hands free slots to waiters: known ones first, oldest first
// within a lane.
func (g *gate) grantLocked() {
	var now time.Time // read once, and only if an unknown waiter needs it
	for g.held < g.limit {
		lane := LaneKnown
		if g.waiters[LaneKnown].Len() == 0 {
			if g.waiters[LaneUnknown].Len() == 0 {
				return
			}
			if now.IsZero() {
				now = g.now()
			}
			if g.heldUnknown >= g.unknownCapLocked(now) {
				return
			}
			lane = LaneUnknown
		}
		ready := g.waiters[lane].Remove(g.waiters[lane].Front()).(chan int)
		ready <- g.takeLocked(lane)
	}
}
