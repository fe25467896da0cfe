package filter

import (
	"net/http"

	"github.com/rempart/rempart/internal/telemetry"
)

// stageName is how the filter signs the records it decides.
const stageName = "filter"

// The records' Action in shadow mode, by reason: "shadow:<reason>".
var shadowActions = [NumReasons]string{}

func init() {
	for r := ReasonNone + 1; r < NumReasons; r++ {
		shadowActions[r] = "shadow:" + r.Action()
	}
}

// Bodies of refusals: short, the status says the rest.
var refusalBodies = [NumReasons]string{"", "forbidden", "too many requests", "overloaded, retry later", "too many requests",
	"busy, retry later"}

// Stage is the filter stage of the pipeline. It runs once the request's
// record has its client, prefix, fingerprint and route class, asks the
// Shield, and either refuses at once (telemetry.Refuse: 403, 429 or 503
// with Retry-After, a one-line body, the record's Action set) or calls
// Next. In shadow mode it records what it would have done
// ("shadow:rate_limited") and calls Next.
type Stage struct {
	// Shield decides. Required.
	Shield *Shield
	// Next is the following stage. Required.
	Next http.Handler
}

var _ http.Handler = (*Stage)(nil)

// ServeHTTP filters the request. It decides at the record's start time,
// the edge's clock when the request arrived.
func (st *Stage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := telemetry.RecordOf(w)
	now := rec.Start
	if now.IsZero() {
		now = st.Shield.now()
	}
	v := st.Shield.Decide(rec, r, now)
	switch {
	case v.Refused():
		rec.Action = v.Reason.Action()
		telemetry.Refuse(w, stageName, telemetry.OutcomeRefused, v.Reason.String(),
			v.Status, refusalBodies[v.Reason], v.RetryAfter)
		return
	case v.Shadow:
		rec.Action = shadowActions[v.Reason]
	}
	if st.Shield.StripParams(rec.Class) {
		rec.StripQuery = true // a cache-busting defence: the cache keys without the query
	}
	st.Next.ServeHTTP(w, r)
}
