package viewer

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/rempart/rempart/internal/siege/sim"
)

// ErrGaveUp is returned when a viewer leaves a waiting room because its
// patience ran out.
var ErrGaveUp = errors.New("viewer: gave up waiting")

// admissionTrack follows one viewer through the target's admission
// control and fills its sim.Admission record.
type admissionTrack struct {
	rec  sim.Admission
	held bool // the last answer was a hold: the viewer is in the queue
}

func newAdmissionTrack() admissionTrack {
	return admissionTrack{rec: sim.Admission{Wait: sim.NoWait}}
}

// hold notes a waiting-room answer (queued or limited) received at at.
func (t *admissionTrack) hold(at time.Time, vd *verdict) {
	r := &t.rec
	if r.WasAdmitted() && !t.held {
		if r.Seq == 0 && !r.Queued() {
			// That success was no admission: an object outside the gate
			// answered before the gate held the viewer.
			r.Admitted = time.Time{}
		} else {
			r.Requeued++
		}
	}
	t.held = true
	if vd.kind == answerLimited {
		r.Limited = true
		return
	}
	if r.WasAdmitted() {
		return // queued again: the record keeps the first passage
	}
	if !r.Queued() {
		r.Ticketed = at
	}
	if r.Number == 0 {
		r.Number = vd.qa.Number
	}
	if r.Position == 0 {
		r.Position = vd.qa.Position
	}
	if w, ok := vd.qa.displayedWait(); ok && r.Wait == sim.NoWait {
		r.Wait, r.WaitAt = w, at
	}
}

// polled notes that the viewer waits d before asking again.
func (t *admissionTrack) polled(d time.Duration) {
	if !t.rec.WasAdmitted() {
		t.rec.Poll = d
	}
}

// success notes a success received at at, with the admission sequence
// number it carried (0: none). It reports whether this was the admission.
func (t *admissionTrack) success(at time.Time, seq int64) bool {
	r := &t.rec
	t.held = false
	switch {
	case !r.WasAdmitted():
		r.Admitted, r.Seq = at, seq
		return true
	case seq > 0 && r.Seq == 0 && r.Requeued == 0:
		// The first success was outside the gate; this one is the
		// admission.
		r.Admitted, r.Seq = at, seq
		return true
	}
	return false
}

// refusal notes a refusal and its reason.
func (t *admissionTrack) refusal(reason string) {
	t.held = false
	if t.rec.Refused == "" {
		t.rec.Refused = reason
	}
}

// record closes the books: the viewer leaves at now. parent is the
// context the model was run with: when it ended for the run's reasons
// (not the client's lifetime), or the budget was spent, the viewer was
// still there at the end of the run.
func (v *viewer) admissionRecord(parent context.Context, now time.Time) *sim.Admission {
	r := v.adm.rec
	r.Arrived, r.Left = v.cl.firstSent, now
	r.RunEnded = v.cl.budgetOut || (parent.Err() != nil && !errors.Is(context.Cause(parent), sim.ErrLifetime))
	return &r
}

// bound returns the viewer's context: parent, ended by the "watch" time
// (from arrival) and the "watch_admitted" time (from admission), and a
// function that releases it.
func (v *viewer) bound(parent context.Context) (context.Context, func()) {
	ctx, cancelWatch := parent, context.CancelFunc(func() {})
	if d := durationParam(v.p, "watch", 0); d > 0 {
		ctx, cancelWatch = context.WithTimeout(parent, d)
	}
	ctx, leave := context.WithCancel(ctx)
	v.stayFor, v.leave = durationParam(v.p, "watch_admitted", 0), leave
	v.patience = durationParam(v.p, "patience", 0)
	return ctx, func() {
		if v.leaveTimer != nil {
			v.leaveTimer.Stop()
		}
		leave()
		cancelWatch()
	}
}

// onAdmitted starts the "watch_admitted" countdown. With
// "watch_admitted_spread" s (0 to 1) the time watched is drawn uniformly in
// watch_admitted × [1−s, 1+s]: real viewers do not all leave after the same
// time, and a crowd that did would free places in synchronized bursts.
func (v *viewer) onAdmitted() {
	if v.stayFor > 0 && v.leave != nil && v.leaveTimer == nil {
		d := v.stayFor
		if sp := min(max(v.p.Float("watch_admitted_spread", 0), 0), 1); sp > 0 {
			d = time.Duration(float64(d) * (1 - sp + 2*sp*rand.Float64()))
		}
		v.leaveTimer = time.AfterFunc(d, v.leave)
	}
}
