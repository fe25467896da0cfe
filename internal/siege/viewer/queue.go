package viewer

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Admission protocol (docs/admission.md), as a viewer speaks it. A target
// holds a viewer by answering 503 (or 429) with Retry-After and a JSON body
// {"status":"queued","ticket","number","position","wait","retry_after"}.
// The viewer waits, then sends the same request again with its cookies
// (rempart_ticket, rempart_session, kept by the jar) and, as a player
// does, the ticket and the session in headers. The admitting answer is a
// success carrying the session (cookie and X-Rempart-Session) and the
// site's admission sequence number (X-Rempart-Admitted). A 403 with
// {"status":"refused","reason"} is a refusal: an error, not a wait.
const (
	ticketHeader   = "X-Rempart-Ticket"
	sessionHeader  = "X-Rempart-Session"
	admittedHeader = "X-Rempart-Admitted"
	ticketCookie   = "rempart_ticket"
	sessionCookie  = "rempart_session"
)

// Waiting-room timing: a held viewer never retries sooner than
// minQueueWait nor waits longer than maxQueueWait at a time; it waits up to
// a quarter longer than told, so held viewers do not come back in step.
const (
	minQueueWait     = 250 * time.Millisecond
	maxQueueWait     = 5 * time.Minute
	defaultQueueWait = 2 * time.Second
	queueJitter      = 0.25
	// maxDisplayedWait bounds a displayed wait kept for the report.
	maxDisplayedWait = 24 * time.Hour
	// maxReason bounds a refusal reason kept for the report.
	maxReason = 40
)

// answerKind is what an answer means to a viewer's admission.
type answerKind uint8

const (
	answerOther   answerKind = iota // not a hold: a success or a failure like any other
	answerQueued                    // held in the waiting room (a ticket, or 503 + Retry-After)
	answerLimited                   // tickets rate-limited (429): wait and ask again
	answerRefused                   // 403 {"status":"refused"}: an error
)

// queueAnswer is the JSON body of an admission answer.
type queueAnswer struct {
	Status     string   `json:"status"`
	Reason     string   `json:"reason"`
	Ticket     string   `json:"ticket"`
	Number     int64    `json:"number"`
	Position   int64    `json:"position"`
	Wait       *float64 `json:"wait"` // nil: not displayed
	RetryAfter float64  `json:"retry_after"`
	Session    string   `json:"session"`
	Admitted   int64    `json:"admitted"`
}

// verdict is one answer read for admission.
type verdict struct {
	kind  answerKind
	retry time.Duration // queued, limited: when to ask again, as told (clamped, before jitter)
	qa    queueAnswer
	seq   int64 // X-Rempart-Admitted (or JSON "admitted"); 0: none
}

// judge reads res as an admission answer. The JSON retry_after, which has
// a fraction, wins over a Retry-After header that disagrees.
func judge(res response, now time.Time) verdict {
	qa, isJSON := decodeAnswer(res.body)
	vd := verdict{qa: qa, seq: admittedSeq(res.header.Get(admittedHeader))}
	if vd.seq == 0 && qa.Admitted > 0 {
		vd.seq = qa.Admitted
	}
	if isJSON && qa.Status == "refused" && res.status >= 400 {
		vd.kind = answerRefused
		return vd
	}
	if res.status != http.StatusServiceUnavailable && res.status != http.StatusTooManyRequests {
		return vd
	}
	retry, hasRetry := retryAfter(res.header.Get("Retry-After"), now)
	if isJSON && qa.RetryAfter > 0 && qa.RetryAfter <= maxQueueWait.Seconds() {
		retry, hasRetry = time.Duration(qa.RetryAfter*float64(time.Second)), true
	}
	switch {
	case isJSON && qa.Status == "limited":
		vd.kind = answerLimited
	case isJSON && (qa.Status == "queued" || qa.Status == "prequeue" || qa.Ticket != ""):
		vd.kind = answerQueued
	case hasRetry && res.status == http.StatusTooManyRequests:
		vd.kind = answerLimited
	case hasRetry:
		vd.kind = answerQueued
	default:
		return vd // a plain 503 or 429: a failure
	}
	if !hasRetry {
		retry = defaultQueueWait
	}
	vd.retry = min(max(retry, minQueueWait), maxQueueWait)
	return vd
}

// holds reports whether res, received at at, is a waiting-room hold: a
// 503 or 429 the viewer waits on and sends again (see judge).
func holds(res response, at time.Time) bool {
	if res.status != http.StatusServiceUnavailable && res.status != http.StatusTooManyRequests {
		return false
	}
	k := judge(res, at).kind
	return k == answerQueued || k == answerLimited
}

// decodeAnswer parses a JSON admission body; false when body is not one.
func decodeAnswer(body []byte) (queueAnswer, bool) {
	var qa queueAnswer
	if len(body) == 0 || body[0] != '{' || json.Unmarshal(body, &qa) != nil {
		return queueAnswer{}, false
	}
	qa.Number, qa.Position, qa.Admitted = max(qa.Number, 0), max(qa.Position, 0), max(qa.Admitted, 0)
	if qa.Wait != nil && !(*qa.Wait >= 0) {
		qa.Wait = nil
	}
	return qa, true
}

// displayedWait returns the wait an answer displays.
func (qa *queueAnswer) displayedWait() (time.Duration, bool) {
	if qa.Wait == nil {
		return 0, false
	}
	return time.Duration(math.Min(*qa.Wait, maxDisplayedWait.Seconds()) * float64(time.Second)), true
}

// reason returns the refusal reason, bounded and printable.
func (qa *queueAnswer) reason() string {
	r := qa.Reason
	if len(r) > maxReason || !safeHeaderValue(r) || strings.ContainsAny(r, " \"") {
		return "other"
	}
	return strings.ToLower(r)
}

// admittedSeq parses X-Rempart-Admitted; 0 when absent or invalid.
func admittedSeq(v string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// jittered returns d plus up to queueJitter of it, drawn with r in [0, 1).
func jittered(d time.Duration, r float64) time.Duration {
	return d + time.Duration(r*queueJitter*float64(d))
}

// retryAfter parses a Retry-After value: delay seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
		return time.Duration(min(n, int64(maxQueueWait/time.Second))) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// keepCredentials remembers the ticket and session a response hands out
// in its headers (the jar keeps the cookies).
func (cl *client) keepCredentials(h http.Header) {
	if t := h.Get(ticketHeader); t != "" && safeHeaderValue(t) {
		cl.ticket = t
	}
	if s := h.Get(sessionHeader); s != "" && safeHeaderValue(s) {
		cl.session = s
	}
}

// keepAnswer remembers the ticket and session a JSON answer hands out.
func (cl *client) keepAnswer(qa *queueAnswer) {
	if qa.Ticket != "" && safeHeaderValue(qa.Ticket) {
		cl.ticket = qa.Ticket
	}
	if qa.Session != "" && safeHeaderValue(qa.Session) {
		cl.session = qa.Session
	}
}

// admitted drops the ticket header once a session is held: the ticket is
// redeemed, and presenting it again would be refused as ticket_used. (The
// cookie stays, as a browser keeps it until the target expires it.)
func (cl *client) admitted() {
	if cl.session != "" || cl.jar.has(sessionCookie) {
		cl.ticket = ""
	}
}

// forget drops the credential a refusal names (ticket_used,
// session_ended...), so that the viewer's next try queues anew.
func (cl *client) forget(reason string) {
	switch {
	case strings.Contains(reason, "ticket"):
		cl.ticket = ""
		cl.jar.remove(ticketCookie)
	case strings.Contains(reason, "session"):
		cl.session = ""
		cl.jar.remove(sessionCookie)
	}
}
