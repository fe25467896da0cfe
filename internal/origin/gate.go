package origin

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// gate bounds the requests in flight to one origin, like a semaphore whose
// size can change while slots are held: lowering the limit takes effect as
// slots are released, raising it wakes waiters at once. Waiters are served
// in arrival order, so a newcomer never overtakes one that queued before it.
type gate struct {
	mu      sync.Mutex // guards the fields below
	limit   int        // slots that may be held; at least 1
	held    int        // slots held now; above limit just after a cut
	waiters list.List  // of chan int, buffered 1: the held count once granted
}

// newGate returns a gate of limit slots.
func newGate(limit int) *gate {
	return &gate{limit: max(limit, 1)}
}

// acquire takes a slot, waiting at most wait or until ctx is done, and
// returns the slots held once it got in (its own included). It allocates
// only when it has to wait. Its errors are ErrOverloaded (wait passed)
// and ctx.Err().
func (g *gate) acquire(ctx context.Context, wait time.Duration) (int, error) {
	g.mu.Lock()
	if g.held < g.limit && g.waiters.Len() == 0 {
		g.held++
		n := g.held
		g.mu.Unlock()
		return n, nil
	}
	ready := make(chan int, 1)
	elem := g.waiters.PushBack(ready)
	g.mu.Unlock()
	return g.wait(ctx, wait, ready, elem)
}

// wait blocks until ready is granted, ctx is done or wait passes; on
// giving up it leaves the queue, or hands back a slot granted meanwhile.
func (g *gate) wait(ctx context.Context, wait time.Duration, ready chan int, elem *list.Element) (int, error) {
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
		g.release()
	default:
		g.waiters.Remove(elem)
		g.mu.Unlock()
	}
	return 0, err
}

// release frees a slot and hands it to the first waiter if the limit
// allows.
func (g *gate) release() {
	g.mu.Lock()
	g.held--
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

// grantLocked hands free slots to waiters, oldest first.
func (g *gate) grantLocked() {
	for g.held < g.limit && g.waiters.Len() > 0 {
		ready := g.waiters.Remove(g.waiters.Front()).(chan int)
		g.held++
		ready <- g.held
	}
}
