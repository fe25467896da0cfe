package sim

import (
	"errors"
	"time"
)

// ErrLifetime is the cause (context.Cause) of a client's context when its
// population's lifetime is over, as opposed to the end of the run: a
// viewer that leaves a waiting room because of it gave up, one still
// there when the run ends was still waiting.
var ErrLifetime = errors.New("client lifetime over")

// ErrHeld is the error a viewer model passes to Recorder.Request for an
// answer that held it in a waiting room (a 503 or 429 it waits on and
// asks again, docs/admission.md): a hold, counted apart, not a failure.
var ErrHeld = errors.New("held in a waiting room")

// ErrChallenged is the error a viewer model passes to Recorder.Request for
// a proof-of-work challenge it goes on to solve, as a browser's page does
// (a 403 pointing at the challenge page, docs/challenge.md): counted apart,
// neither a refusal nor a failure. The page, the solution and the retried
// request are recorded as requests of their own.
var ErrChallenged = errors.New("challenged")

// NoWait is Admission.Wait when the target displayed no wait.
const NoWait time.Duration = -1

// Admission is one viewer's passage through the target's admission control
// (docs/admission.md): when it arrived, when it was given a ticket and what
// the ticket said, when it was admitted and with which sequence number.
// Times are on the run's clock; a zero time means "never".
type Admission struct {
	// Arrived is when the viewer's first request was sent.
	Arrived time.Time
	// Ticketed is when the first waiting-room answer (a ticket, or a 503
	// with Retry-After) was received; zero: the viewer never queued.
	Ticketed time.Time
	// Number is the ticket's number (JSON "number"); 0: not told.
	Number int64
	// Position is the first position displayed (JSON "position"); 0: not told.
	Position int64
	// Wait is the first wait displayed (JSON "wait"), or NoWait; WaitAt
	// is when that answer was received.
	Wait   time.Duration
	WaitAt time.Time
	// Poll is the last interval the viewer waited in the queue before it
	// was admitted (the retry_after told, plus the viewer's jitter): siege
	// knows the moment of admission to that resolution.
	Poll time.Duration
	// Admitted is when the admitting answer was received: the answer that
	// carried X-Rempart-Admitted, or else the first success (after the
	// queue, if the viewer queued). Zero: never admitted.
	Admitted time.Time
	// Seq is the X-Rempart-Admitted of the admitting answer; 0: not sent.
	Seq int64
	// Requeued counts the times the viewer, once admitted, was queued
	// again (its session was lost).
	Requeued int
	// Limited is set when the target rate-limited the viewer's tickets
	// (429, JSON status "limited") at least once.
	Limited bool
	// Refused is the reason of the first refusal (403, JSON status
	// "refused"); "" when never refused.
	Refused string
	// RunEnded is set when the viewer was still there when the run ended
	// (or its budget was spent), rather than leaving on its own: its watch
	// time, patience or lifetime over, or too many failures.
	RunEnded bool
	// Left is when the viewer's life ended.
	Left time.Time
	// Played is the media time played per rendition, in the order first
	// played.
	Played []Played
}

// Played is media time played at one rendition.
type Played struct {
	Rendition string        // the media playlist's path
	Bandwidth float64       // bits/s the rendition plays at (as received)
	Time      time.Duration // media time played
}

// Queued reports whether the viewer was ever held in a waiting room.
func (a *Admission) Queued() bool { return !a.Ticketed.IsZero() }

// WasAdmitted reports whether the viewer was admitted.
func (a *Admission) WasAdmitted() bool { return !a.Admitted.IsZero() }
