package runner

import (
	"context"
	"time"

	"github.com/rempart/rempart/internal/siege/scenario"
	"github.com/rempart/rempart/internal/siege/sim"
)

// maxWait bounds the scheduler's sleep, so that it notices a spent budget
// soon even when no arrival is due.
const maxWait = 50 * time.Millisecond

// schedule runs the phases one after the other, starting each client when
// it is due. It returns when the phases are over or ctx is done; it
// cancels the run with errBudget when the request budget is spent.
func (r *run) schedule(ctx context.Context, cancel context.CancelCauseFunc) {
	var off time.Duration
	for _, ph := range r.s.Phases {
		// Phase starts are offsets from the run's start, so a late
		// scheduler never shifts the phases that follow.
		start := r.start.Add(off)
		off += ph.Duration
		if !r.phase(ctx, cancel, ph, start) {
			return
		}
	}
}

// phase runs one phase; false means the run is over.
func (r *run) phase(ctx context.Context, cancel context.CancelCauseFunc, ph scenario.Phase, start time.Time) bool {
	gens := make([]*arrivals, 0, len(ph.Arrivals))
	for _, a := range ph.Arrivals {
		gens = append(gens, newArrivals(a, ph.Duration))
	}
	end := start.Add(ph.Duration)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		now := time.Now()
		next := end
		for _, a := range gens {
			next = r.startDue(ctx, a, start, now, next)
		}
		if r.env.Budget.Left() == 0 {
			cancel(errBudget)
			return false
		}
		if !now.Before(end) {
			return true
		}
		timer.Reset(min(next.Sub(now), maxWait))
		select {
		case <-ctx.Done():
			return false
		case <-timer.C:
		}
	}
}

// startDue starts a's clients due by now and returns the earlier of next
// and a's next due time. A client started late keeps its scheduled time
// as Intended, so its first request's latency includes the lateness.
func (r *run) startDue(ctx context.Context, a *arrivals, start, now, next time.Time) time.Time {
	for !a.done() {
		due := start.Add(a.at(a.next))
		if due.After(now) {
			if due.Before(next) {
				next = due
			}
			break
		}
		r.launch(ctx, a.pop, due)
		a.next++
	}
	return next
}

// launch starts one client of pop, unless the run is over or max_clients
// are alive already.
func (r *run) launch(ctx context.Context, pop int, due time.Time) {
	if ctx.Err() != nil {
		return
	}
	if r.alive.Load() >= int64(r.s.MaxClients) {
		r.rec.skip(pop)
		return
	}
	c := sim.Client{ID: r.nextID.Add(1) - 1, Pop: pop, Intended: due}
	if r.sources {
		c.Source = SourceAddr(c.ID)
	}
	r.rec.client(pop)
	r.alive.Add(1)
	r.clients.Go(func() {
		defer r.alive.Add(-1)
		r.runClient(ctx, c)
	})
}

// runClient runs one client until its lifetime (counted from its intended
// arrival) or the run ends. A panicking model costs its client, not the
// run; the first panic is logged.
func (r *run) runClient(ctx context.Context, c sim.Client) {
	if life := r.s.Populations[c.Pop].Lifetime; life > 0 {
		var cancel context.CancelFunc
		// The cause tells a model that its life, not the run, is over.
		ctx, cancel = context.WithDeadlineCause(ctx, c.Intended.Add(life), sim.ErrLifetime)
		defer cancel()
	}
	defer func() {
		if v := recover(); v != nil && r.panics.Add(1) == 1 {
			r.log.Error("siege: a client model panicked; its clients stop", "population", r.s.Populations[c.Pop].Name, "panic", v)
		}
	}()
	r.models[c.Pop].Run(ctx, r.env, c)
}
