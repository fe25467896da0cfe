package waitpage

import (
	"bytes"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultStatusURL is where the page asks how its ticket stands when
// View.StatusURL is empty.
const DefaultStatusURL = "/_rempart/queue"

// DefaultRetryAfter is the delay before the page asks again when
// View.RetryAfter is zero or less.
const DefaultRetryAfter = 3 * time.Second

// MaxRefresh bounds the delay before the page asks again, so that a wrong
// estimate cannot leave a viewer on a stale page for long.
const MaxRefresh = 10 * time.Minute

// MaxReturn is the longest return URL the page keeps; a longer one becomes
// "/", so that a client cannot grow the page.
const MaxReturn = 2048

// View is what the page shows of one ticket.
type View struct {
	// Number is the ticket's number, its order of arrival from 1. Zero or
	// less is unknown and not shown.
	Number int64
	// Position is the number of tickets ahead plus one (1 = next). Zero or
	// less is unknown, as in a raffle: the page then says that places are
	// drawn at random.
	Position int64
	// Wait is the estimated wait before admission (the mean wait in a
	// raffle). Negative is unknown and not shown; under a minute the page
	// says "less than a minute".
	Wait time.Duration
	// RetryAfter is when to ask again, already jittered by the server. The
	// script polls after it; without scripts the page refreshes after it,
	// rounded up to a whole second. Zero or less means DefaultRetryAfter;
	// at most MaxRefresh.
	RetryAfter time.Duration
	// StatusURL is the ticket's status endpoint, a path on this site. Empty,
	// or anything but such a path, means DefaultStatusURL.
	StatusURL string
	// Return is the URL the viewer asked for, loaded again once admitted. It
	// must be a path on this site: anything that does not start with a
	// single "/", or holds a backslash or a control character, or is longer
	// than MaxReturn, becomes "/".
	Return string
	// Raffle is true when places are drawn at random among the waiting
	// tickets; Position is then ignored.
	Raffle bool
	// PreQueue is true before the event starts: the doors open in OpensIn,
	// and the order of those who came before is drawn then.
	PreQueue bool
	// OpensIn is how long until the doors open, when PreQueue.
	OpensIn time.Duration
}

// bufs holds the buffers pages are written into.
var bufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooled is the largest buffer put back in bufs; a page is far smaller.
const maxPooled = 64 << 10

// Render answers r with the waiting page for v, in the language r's
// Accept-Language prefers, with the given status (503 in the waiting room).
// It sets the page's own headers: Content-Type, Content-Length,
// Cache-Control, Content-Language, Content-Security-Policy and the like, and
// Retry-After from v.RetryAfter unless the caller set it; the caller sets
// the ticket's cookie and headers. A HEAD request gets the headers alone.
func Render(w http.ResponseWriter, r *http.Request, v View, status int) {
	p := pageFor(r.Header.Get("Accept-Language"))
	buf := bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= maxPooled {
			bufs.Put(buf)
		}
	}()
	p.write(buf, p.values(&v))

	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Content-Language", p.lang)
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", p.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	if h.Get("Retry-After") == "" {
		h.Set("Retry-After", strconv.FormatInt(refresh(v.RetryAfter), 10))
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

// values are the page's per-request fields for v, not yet escaped.
func (p *page) values(v *View) *[numFields]string {
	vals := [numFields]string{
		fieldRefresh:   strconv.FormatInt(refresh(v.RetryAfter), 10),
		fieldStatusURL: sitePath(v.StatusURL, DefaultStatusURL),
		fieldReturn:    sitePath(v.Return, "/"),
		fieldRetry:     strconv.FormatFloat(retry(v.RetryAfter).Seconds(), 'f', -1, 64),
		fieldPos:       "0",
	}
	if !v.PreQueue && !v.Raffle && v.Position > 0 {
		vals[fieldPos] = strconv.FormatInt(v.Position, 10)
	}
	if v.Number > 0 {
		vals[fieldTicket] = fill(p.t.Ticket, "n", p.t.number(v.Number))
	}
	vals[fieldLine1], vals[fieldLine2] = p.t.lines(v)
	return &vals
}

// retry is the delay before the next poll: DefaultRetryAfter when unset,
// at most MaxRefresh.
func retry(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultRetryAfter
	}
	return min(d, MaxRefresh)
}

// refresh is retry in whole seconds, rounded up, so that a client without
// scripts does not come back before it was told.
func refresh(d time.Duration) int64 {
	return int64(math.Ceil(retry(d).Seconds()))
}

// sitePath returns s if it is a path on this site, and def otherwise.
// "//host" and "/\host" name another host to a browser, which also drops
// tabs and newlines from URLs, so that "/\t/host" is "//host".
func sitePath(s, def string) string {
	if len(s) == 0 || len(s) > MaxReturn || s[0] != '/' {
		return def
	}
	if len(s) > 1 && (s[1] == '/' || s[1] == '\\') {
		return def
	}
	if strings.ContainsFunc(s, func(c rune) bool { return c < 0x20 || c == 0x7f || c == '\\' }) {
		return def
	}
	return s
}
