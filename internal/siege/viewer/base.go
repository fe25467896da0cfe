package viewer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/rempart/rempart/internal/siege/sim"
)

// maxFailures is how many requests in a row may fail before a viewer gives
// up, as a player shows an error screen.
const maxFailures = 10

// viewer is what every model shares: the client, the reported state, the
// waiting-room time and record, and the error count of one simulated
// person.
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
	adm      admissionTrack

	// Set by bound: "watch_admitted" ends the viewer's context stayFor
	// after its admission (leave, by leaveTimer); "patience" bounds each
	// stay in a waiting room.
	stayFor    time.Duration
	leave      context.CancelFunc
	leaveTimer *time.Timer
	patience   time.Duration
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
	v := &viewer{env: env, c: c, p: p, now: now, adm: newAdmissionTrack()}
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
	s.Refused = v.cl.refusals > 0
	if v.cl.player && s.Refused && s.Started {
		s.Stalls++ // the refusal stopped its picture (see ErrRefused)
	}
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
	refusals := v.cl.refusals
	res, err := v.fetchQueued(ctx, r)
	switch {
	case err == nil && (res.status < 200 || res.status > 299):
		err = &statusError{status: res.status}
	case err == nil && mediaPage(r.kind, res):
		err = &statusError{status: res.status, reason: "a web page in place of media"}
	}
	if v.cl.player && v.cl.refusals > refusals {
		err = fmt.Errorf("%w: %w", ErrRefused, cmp.Or(err, error(&statusError{status: res.status})))
	}
	if err != nil {
		v.failures++
	} else {
		v.failures = 0
	}
	return res, err
}

// statusError is an answer that is not a success; reason is a refusal's.
type statusError struct {
	status int
	reason string
}

func (e *statusError) Error() string {
	if e.reason != "" {
		return "refused: " + e.reason
	}
	return "status " + http.StatusText(e.status)
}

// fetchQueued sends r (following redirects) and, while the answer is a
// waiting-room answer, waits as told and sends it again. It keeps the
// credentials the answers hand out and notes the viewer's passage through
// admission.
func (v *viewer) fetchQueued(ctx context.Context, r *request) (response, error) {
	var since time.Time
	defer func() {
		if v.inQueue {
			v.queued += v.now().Sub(since)
			v.inQueue = false
			v.report()
		}
	}()
	solves := 0
	for {
		res, err := v.cl.follow(ctx, r)
		if err != nil {
			return res, err
		}
		if v.cl.challenged(res) && solves < maxSolves {
			// As a page would: solve, then ask again, from the same
			// intended time (the player waited for all of it).
			solves++
			if err := v.cl.solve(ctx, res); err != nil {
				return res, err
			}
			continue
		}
		at := v.now()
		vd, err := v.read(res, at)
		if err != nil || vd.kind == answerOther {
			return res, err
		}
		v.adm.hold(at, &vd)
		if !v.inQueue {
			since, v.inQueue = at, true
			v.report()
		}
		wait := jittered(vd.retry, rand.Float64())
		if v.patience > 0 && at.Add(wait).After(since.Add(v.patience)) {
			v.sleepUntil(ctx, since.Add(v.patience))
			return res, ErrGaveUp
		}
		v.adm.polled(wait)
		if !v.sleep(ctx, wait) {
			return res, ctx.Err()
		}
		r.intended = v.now()
	}
}

// read reads res, received at at, for admission: it keeps the credentials
// the answer hands out and notes a success or a refusal (an error).
func (v *viewer) read(res response, at time.Time) (verdict, error) {
	vd := judge(res, at)
	if v.cl.player {
		vd.kind, vd.qa = answerOther, queueAnswer{} // a plain player knows no waiting room
	}
	v.cl.keepAnswer(&vd.qa)
	switch {
	case vd.kind == answerRefused:
		reason := vd.qa.reason()
		v.adm.refusal(reason)
		v.cl.forget(reason)
		return vd, &statusError{res.status, reason}
	case vd.kind == answerOther && res.status >= 200 && res.status <= 299:
		v.cl.admitted()
		if v.adm.success(at, vd.seq) {
			v.onAdmitted()
		}
	}
	return vd, nil
}

// hopeless reports whether err is a refusal that trying again cannot
// cure: not a ticket or session refused (those are dropped, and the next
// try queues anew), but an account limit or a playback token.
func hopeless(err error) bool {
	var se *statusError
	return errors.As(err, &se) && se.reason != "" &&
		!strings.Contains(se.reason, "ticket") && !strings.Contains(se.reason, "session")
}

// failed reports whether err is a failure of the viewer's to count: not
// the end of its life or of the run, not the budget, not its giving up.
func failed(ctx context.Context, err error) bool {
	return err != nil && ctx.Err() == nil && !errors.Is(err, ErrBudget) && !errors.Is(err, ErrGaveUp)
}

// stopped reports whether err ends the viewer's life: the run is over,
// the budget is spent, the viewer gave up waiting, a plain player was
// refused, or too many requests failed in a row.
func (v *viewer) stopped(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, ErrBudget) || errors.Is(err, ErrGaveUp) || errors.Is(err, ErrRefused) ||
		v.failures >= maxFailures
}
