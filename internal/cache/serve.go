package cache

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/rempart/rempart/internal/origin"
	"github.com/rempart/rempart/internal/telemetry"
)

// ageTableSize is how many Age values are preformatted: the fast path then
// sets Age without allocating for objects up to about an hour old.
const ageTableSize = 4096

var ageValues = func() [][]string {
	t := make([][]string, ageTableSize)
	for i := range t {
		t[i] = []string{strconv.Itoa(i)}
	}
	return t
}()

// ageValue returns the Age header value for d. The shared slices are clipped
// so that appending to them copies.
func ageValue(d time.Duration) []string {
	s := int64(d / time.Second)
	if s < ageTableSize {
		return ageValues[s][:1:1]
	}
	return []string{strconv.FormatInt(s, 10)}
}

// serveEntry answers r from a stored entry. Without Range or conditionals it
// copies the stored header slices and writes the body: no allocation beyond
// what the ResponseWriter does.
func (h *Handler) serveEntry(w http.ResponseWriter, r *http.Request, rec *telemetry.Record, e *entry, now time.Time, o telemetry.Outcome, reason string) {
	rec.Class = e.class
	rec.Decide(stage, o, reason)
	hdr := w.Header()
	for k, v := range e.header {
		hdr[k] = v
	}
	hdr["Age"] = ageValue(e.age(now))
	if e.status == http.StatusOK && needsContent(r) {
		http.ServeContent(w, r, "", e.modTime, bytes.NewReader(e.body))
		return
	}
	w.WriteHeader(e.status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(e.body) // a client gone is not the cache's error
	}
}

// needsContent reports whether r asks for a range or is conditional: then
// http.ServeContent answers (206, 304, 412, 416).
func needsContent(r *http.Request) bool {
	h := r.Header
	return len(h["Range"]) > 0 || len(h["If-None-Match"]) > 0 || len(h["If-Modified-Since"]) > 0 ||
		len(h["If-Range"]) > 0 || len(h["If-Match"]) > 0 || len(h["If-Unmodified-Since"]) > 0
}

// serveBuffered answers r with a complete answer that was not stored.
func serveBuffered(w http.ResponseWriter, r *http.Request, status int, header http.Header, body []byte) {
	hdr := w.Header()
	copyHeader(hdr, header)
	delete(hdr, "Content-Length")
	if status == http.StatusOK {
		modTime, _ := http.ParseTime(header.Get("Last-Modified"))
		http.ServeContent(w, r, "", modTime, bytes.NewReader(body))
		return
	}
	hdr["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// Short bodies of the edge's own errors: the client sees this, the log the
// cause.
var (
	bodyBadGateway     = []byte("502 bad gateway: origin unavailable\n")
	bodyGatewayTimeout = []byte("504 gateway timeout: origin too slow\n")
	bodyUnavailable    = []byte("503 service unavailable: shutting down\n")
	bodyBadRequest     = []byte("400 bad request: unreadable request body or refused path\n")
	bodyTooLarge       = []byte("413 content too large\n")
)

// writeError answers with a tiny text error and records the outcome.
func writeError(w http.ResponseWriter, r *http.Request, rec *telemetry.Record, code int, reason string) {
	if reason == reasonOriginBusy {
		refuseBusy(w)
		return
	}
	body := bodyBadGateway
	switch code {
	case http.StatusGatewayTimeout:
		body = bodyGatewayTimeout
	case http.StatusServiceUnavailable:
		body = bodyUnavailable
	case http.StatusBadRequest:
		body = bodyBadRequest
	case http.StatusRequestEntityTooLarge:
		body = bodyTooLarge
	}
	hdr := w.Header()
	hdr["Content-Type"] = []string{"text/plain; charset=utf-8"}
	hdr["Cache-Control"] = []string{"no-store"}
	hdr["Content-Length"] = []string{strconv.Itoa(len(body))}
	o := telemetry.OutcomeError
	if code < 500 { // the client's fault, not the origin's
		o = telemetry.OutcomeRefused
	}
	rec.Decide(stage, o, reason)
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// errorStatus maps a fetch failure to the status the client gets and the
// reason recorded.
func errorStatus(err error) (int, string) {
	var ne net.Error
	var se statusError
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, origin.ErrClientBody) && errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, "body_too_large"
	case errors.Is(err, origin.ErrClientBody):
		return http.StatusBadRequest, "client_body"
	case errors.Is(err, origin.ErrBadPath):
		return http.StatusBadRequest, "bad_path"
	case errors.Is(err, origin.ErrLaneFull):
		return http.StatusServiceUnavailable, reasonOriginBusy
	case errors.Is(err, ErrClosed):
		return http.StatusServiceUnavailable, "closed"
	case errors.Is(err, errWaitTimeout):
		return http.StatusGatewayTimeout, "wait_timeout"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return http.StatusGatewayTimeout, "origin_timeout"
	case errors.As(err, &se):
		return http.StatusBadGateway, "origin_5xx"
	}
	return http.StatusBadGateway, "origin_down"
}

// flush pushes buffered bytes to the client, when the writer can.
func flush(w http.ResponseWriter) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}
