package telemetry

import (
	"io"
	"net/http"
	"strconv"
)

// Header values shared by every refusal; net/http only reads them.
var (
	textPlain = []string{"text/plain; charset=utf-8"}
	nosniff   = []string{"nosniff"}
	noStore   = []string{"no-store"}
)

// retryAfterValues are the Retry-After values of the first hour, made once:
// a refusal under a flood then sets the header without allocating. Clipped
// so that appending to one copies.
var retryAfterValues = func() [][]string {
	t := make([][]string, 3601)
	for i := range t {
		t[i] = []string{strconv.Itoa(i)}
	}
	return t
}()

func retryAfterValue(secs int) []string {
	if secs < len(retryAfterValues) {
		return retryAfterValues[secs][:1:1]
	}
	return []string{strconv.Itoa(secs)}
}

// Refuse answers w at once with status and a short text body (a newline is
// added), and records that stage refused the request for reason. It is the
// one way stages say no: a tiny answer, no origin work, the cause kept for
// metrics, and no allocation of its own (net/http sets Content-Length for
// such a short body). retryAfter, when > 0, is sent as Retry-After in
// seconds.
func Refuse(w http.ResponseWriter, stage string, o Outcome, reason string, status int, body string, retryAfter int) {
	RecordOf(w).Decide(stage, o, reason)
	h := w.Header()
	h["Content-Type"] = textPlain
	h["X-Content-Type-Options"] = nosniff
	h["Cache-Control"] = noStore
	if retryAfter > 0 {
		h["Retry-After"] = retryAfterValue(retryAfter)
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
	_, _ = io.WriteString(w, "\n")
}
