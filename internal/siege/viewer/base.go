package viewer

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/rempart/rempart/internal/siege/sim"
)

// maxFailures is how many requests in a row may fail before a viewer gives
// up, as a player shows an error screen.
const maxFailures = 10

// viewer is what every model shares: the client, the reported state, the
// waiting-room time and the error count of one simulated person.
type viewer struct {
	env *sim.Env
	c   sim.Client
	p   sim.Params
	cl  *client
	now func() time.Time

	state    sim.State // as last reported to the Recorder
	base     sim.State // the model's own state (Starting, Playing, Stalled)
	inQueue  bool      // held in a waiting room: reported as StateQueued
	queued   time.Duration
	errors   int // failed requests, after retries
	failures int // consecutive failed requests
	timer    *time.Timer
}

func newViewer(env *sim.Env, c sim.Client) *viewer {
	now := env.Now
	if now == nil {
		now = time.Now
	}
	var p sim.Params
	if c.Pop >= 0 && c.Pop < len(env.Params) {
		p = env.Params[c.Pop]
	}
	v := &viewer{env: env, c: c, p: p, now: now}
	v.cl = newClient(env, c, p, now)
	return v
}

// setBase changes the model's state and reports the visible one.
func (v *viewer) setBase(s sim.State) {
	v.base = s
	v.report()
}

// report tells the Recorder the visible state when it changed.
func (v *viewer) report() {
	to := v.base
	if v.inQueue {
		to = sim.StateQueued
	}
	if to != v.state {
		v.env.Rec.State(v.c.Pop, v.state, to)
		v.state = to
	}
}

// end closes the connection and reports StateDone and the summary.
func (v *viewer) end(s sim.ViewerSummary) {
	v.cl.close()
	if v.timer != nil {
		v.timer.Stop()
	}
	v.inQueue = false
	v.setBase(sim.StateDone)
	s.Queued, s.Errors = v.queued, v.errors
	v.env.Rec.Viewer(v.c.Pop, s)
}

// sleep waits d; false means ctx ended first.
func (v *viewer) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	if v.timer == nil {
		v.timer = time.NewTimer(d)
	} else {
		v.timer.Reset(d)
	}
	select {
	case <-v.timer.C:
		return true
	case <-ctx.Done():
		v.timer.Stop()
		return false
	}
}

// sleepUntil waits until t on the run's clock.
func (v *viewer) sleepUntil(ctx context.Context, t time.Time) bool {
	return v.sleep(ctx, t.Sub(v.now()))
}

// fetch sends r, waiting in the target's waiting room as long as it says
// so, and counts the outcome: a transport error or a status other than
// 2xx is a failure (callers that retry call fetch again).
func (v *viewer) fetch(ctx context.Context, r *request) (response, error) {
	res, err := v.fetchQueued(ctx, r)
	if err == nil && (res.status < 200 || res.status > 299) {
		err = &statusError{res.status}
	}
	if err != nil {
		v.failures++
	} else {
		v.failures = 0
	}
	return res, err
}

// statusError is an answer that is not a success.
type statusError struct{ status int }

func (e *statusError) Error() string { return "status " + http.StatusText(e.status) }

// fetchQueued sends r and, while the answer is a waiting-room answer,
// waits as told and sends it again.
func (v *viewer) fetchQueued(ctx context.Context, r *request) (response, error) {
	var since time.Time
	defer func() {
		if v.inQueue {
			v.queued += v.now().Sub(since)
			v.inQueue = false
			v.report()
		}
	}()
	for {
		res, err := v.cl.do(ctx, r)
		if err != nil {
			return res, err
		}
		wait, queued := v.cl.queueWait(res, v.now())
		if !queued {
			return res, nil
		}
		if !v.inQueue {
			since, v.inQueue = v.now(), true
			v.report()
		}
		if !v.sleep(ctx, wait) {
			return res, ctx.Err()
		}
		r.intended = v.now()
	}
}

// stopped reports whether err ends the viewer's life: the run is over,
// the budget is spent, or too many requests failed in a row.
func (v *viewer) stopped(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, ErrBudget) || v.failures >= maxFailures
}
