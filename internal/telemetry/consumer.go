package telemetry

import (
	"net/http"
	"time"
)

// Consumer receives every finished request, synchronously, on the request's
// goroutine, after the response was written: the detector's features and the
// evidence sampler are consumers. Observe must be cheap and must not block
// (no I/O, no allocation on the common path); r is valid only during the
// call, and rec is reused afterwards: copy what is kept.
type Consumer interface {
	Observe(rec *Record, r *http.Request, now time.Time)
}
