package viewer

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Waiting-room protocol, as a viewer understands it. A target holds a
// viewer by answering 503 or 429 with Retry-After, or with a JSON body
// {"ticket": "...", "retry_after": seconds, "token": "...", "query": "..."}.
// The viewer waits, then sends the same request again, with its cookies,
// and on every later request:
//   - the ticket in the ticketHeader header,
//   - a token (from the JSON or a tokenHeader response header) in the
//     tokenHeader header,
//   - a query ("token=abc") appended to every URL.
const (
	ticketHeader = "X-Rempart-Ticket"
	tokenHeader  = "X-Rempart-Token"
)

// Waiting-room timing: a held viewer never retries sooner than
// minQueueWait nor waits longer than maxQueueWait at a time; it waits up to
// a quarter longer than told, so held viewers do not come back in step.
const (
	minQueueWait     = 250 * time.Millisecond
	maxQueueWait     = 5 * time.Minute
	defaultQueueWait = 2 * time.Second
	queueJitter      = 0.25
)

// queueAnswer is the JSON body of a waiting-room answer.
type queueAnswer struct {
	Ticket     string  `json:"ticket"`
	RetryAfter float64 `json:"retry_after"`
	Token      string  `json:"token"`
	Query      string  `json:"query"`
}

// queueWait tells whether res holds the viewer in a waiting room, and for
// how long; it keeps the ticket, token and query the answer carries.
func (cl *client) queueWait(res response, now time.Time) (time.Duration, bool) {
	if res.status != http.StatusServiceUnavailable && res.status != http.StatusTooManyRequests {
		return 0, false
	}
	wait, hasRetry := retryAfter(res.header.Get("Retry-After"), now)
	var qa queueAnswer
	if len(res.body) > 0 && res.body[0] == '{' && json.Unmarshal(res.body, &qa) == nil && qa.Ticket != "" {
		cl.keepAdmission(qa)
		if !hasRetry && qa.RetryAfter > 0 {
			wait, hasRetry = time.Duration(qa.RetryAfter*float64(time.Second)), true
		}
		if !hasRetry {
			wait, hasRetry = defaultQueueWait, true
		}
	}
	if !hasRetry {
		return 0, false
	}
	wait = min(max(wait, minQueueWait), maxQueueWait)
	return wait + time.Duration(rand.Float64()*queueJitter*float64(wait)), true
}

// keepAdmission remembers what a waiting-room answer asks to send back.
func (cl *client) keepAdmission(qa queueAnswer) {
	if safeHeaderValue(qa.Ticket) {
		cl.ticket = qa.Ticket
	}
	if qa.Token != "" && safeHeaderValue(qa.Token) {
		cl.token = qa.Token
	}
	if q, err := url.ParseQuery(qa.Query); qa.Query != "" && err == nil && len(qa.Query) <= maxHeaderValue {
		cl.query = q.Encode()
	}
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
