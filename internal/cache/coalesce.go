package cache

import (
	"context"
)

// acquire attaches the caller to the flight for key, starting one with
// newFlight when none is in flight. It returns instead the stored entry when
// a fresh one appeared since the caller looked; joined is true when the
// caller joined another request's flight.
func (s *Store) acquire(key string, newFlight func() *flight) (f *flight, e *entry, joined bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, nil, false, ErrClosed
	}
	// A flight that is done but not yet removed is not joined: its answer
	// was judged at its own time (a 5xx hidden by a stale copy that may have
	// expired since), and its object, if any, is already stored.
	if f = s.flights[key]; f != nil && f.join() {
		return f, nil, true, nil
	}
	// Look again under the lock. Between the caller's lookup and this lock,
	// a flight for key may have finished: finish stores the object before it
	// removes the flight from the map (under this lock), so a request that
	// finds no flight here is sure to find the object. Without this check it
	// would start a second origin fetch for an object just fetched.
	if e = s.get(key); e != nil && e.fresh(s.now()) {
		return nil, e, false, nil
	}
	f = newFlight()
	f.join()
	s.launchLocked(f) // replaces a done flight; finish only removes its own
	return f, nil, false, nil
}

// refresh starts a background flight for key unless one is already in
// flight: one stale-while-revalidate refresh per key, however many requests
// see the stale copy. It reports whether it started one.
func (s *Store) refresh(key string, newFlight func() *flight) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || (s.flights[key] != nil && !s.flights[key].isDone()) {
		return false
	}
	s.launchLocked(newFlight())
	s.stats.BackgroundRefreshes.Add(1)
	return true
}

// launchLocked registers f and starts its goroutine, owned by the Store: its
// context is the Store's (canceled by Close) bounded by the fetch timeout,
// and Close waits for it.
func (s *Store) launchLocked(f *flight) {
	s.flights[f.key] = f
	s.stats.OriginFetches.Add(1)
	s.wg.Go(func() {
		ctx, cancel := context.WithTimeout(s.ctx, f.timeout)
		defer cancel()
		f.run(ctx)
	})
}

// finish ends f: it wakes any waiter still waiting (a flight always ends
// done) and removes f from the table. The object, if storable, was stored
// before, which the re-check in acquire relies on.
func (s *Store) finish(f *flight) {
	f.mu.Lock()
	if !f.done {
		f.done = true
		f.notifyLocked()
	}
	f.mu.Unlock()
	s.mu.Lock()
	if s.flights[f.key] == f {
		delete(s.flights, f.key)
	}
	s.mu.Unlock()
}
