package cache

import (
	"context"
	"errors"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
)

// await serves r from flight f, which the caller has joined. stale is the
// caller's expired copy, served if the flight fails or is too slow and the
// copy's stale-if-error window allows it.
func (h *Handler) await(w http.ResponseWriter, r *http.Request, rec *telemetry.Record, f *flight, stale *entry, joined bool) {
	defer f.leave()
	o := telemetry.OutcomeMiss
	if joined {
		o = telemetry.OutcomeCoalesced
		h.store.stats.Coalesced.Add(1)
	}
	v, err := h.waitStart(r.Context(), f)
	switch {
	case errors.Is(err, errClientGone):
		rec.Decide(stage, o, "client_gone")
	case err != nil:
		h.store.stats.WaitTimeouts.Add(1)
		h.fallback(w, r, rec, stale, err)
	case v.solo:
		h.serveSolo(w, r, rec, f)
	case v.done && errors.Is(v.err, errTooBig):
		h.pass(w, r, rec, f.req.URL.RawQuery, false, "too_big")
	case v.done && v.err != nil:
		h.fallback(w, r, rec, stale, v.err)
	case v.header != nil:
		h.serveFlight(w, r, rec, f, v, o, joined)
	case v.entry != nil:
		h.serveEntry(w, r, rec, v.entry, h.store.now(), o, "revalidated")
	default: // the flight ended with nothing to share
		h.pass(w, r, rec, f.req.URL.RawQuery, false, "not_shareable")
	}
}

// waitStart waits until f has something for the waiter: headers, a result
// or a failure. It gives up after WaitTimeout (errWaitTimeout) or when the
// client goes away (errClientGone), so no waiter ever hangs.
func (h *Handler) waitStart(ctx context.Context, f *flight) (flightView, error) {
	v := f.view()
	if v.started() {
		return v, nil
	}
	timer := time.NewTimer(h.store.cfg.WaitTimeout)
	defer timer.Stop()
	for !v.started() {
		select {
		case <-v.changed:
		case <-ctx.Done():
			return v, errClientGone
		case <-timer.C:
			return v, errWaitTimeout
		}
		v = f.view()
	}
	return v, nil
}

// fallback answers a request whose fetch failed: the stale copy when its
// stale-if-error window allows, else a short 502/504.
func (h *Handler) fallback(w http.ResponseWriter, r *http.Request, rec *telemetry.Record, stale *entry, err error) {
	now := h.store.now()
	code, why := errorStatus(err)
	st := &h.store.stats
	if stale != nil && stale.usableOnError(now) {
		st.StaleServed.Add(1)
		if stale.class == telemetry.ClassMedia {
			st.PlaylistStaleServed.Add(1)
		}
		h.serveEntry(w, r, rec, stale, now, telemetry.OutcomeStale, why)
		return
	}
	if stale != nil && stale.class == telemetry.ClassMedia {
		st.PlaylistTooOld.Add(1)
		h.store.logs.warn(h.log, now, "media playlist too old to serve: origin failing",
			"site", h.site, "path", r.URL.Path, "age", stale.age(now).String(), "err", err)
	}
	writeError(w, r, rec, code, why)
}

// serveSolo relays a non-shareable answer to the one waiter that claims it;
// the others fetch on their own.
func (h *Handler) serveSolo(w http.ResponseWriter, r *http.Request, rec *telemetry.Record, f *flight) {
	resp, release, ok := f.takeSolo()
	if !ok {
		h.pass(w, r, rec, f.req.URL.RawQuery, false, "not_shareable")
		return
	}
	defer release()
	rec.Decide(stage, telemetry.OutcomePass, "not_shareable")
	h.relay(w, resp, r.Method == http.MethodHead)
}

// serveFlight streams a flight's answer to one waiter as it downloads.
func (h *Handler) serveFlight(w http.ResponseWriter, r *http.Request, rec *telemetry.Record, f *flight, v flightView, o telemetry.Outcome, joined bool) {
	if joined && !sameVariant(v.header) {
		h.pass(w, r, rec, f.req.URL.RawQuery, false, "vary")
		return
	}
	if v.status >= 500 {
		rec.Decide(stage, telemetry.OutcomeError, "origin_5xx")
	} else {
		rec.Decide(stage, o, "")
	}
	if v.status == http.StatusOK && needsContent(r) {
		h.serveRange(w, r, rec, f, v)
		return
	}
	writeFlightHeader(w, v, v.status, v.length)
	if r.Method == http.MethodHead {
		return
	}
	end, err := h.streamBody(w, r, f, 0, -1)
	h.endStream(rec, end, err)
}

// serveRange answers a range or conditional request during a flight: a
// single range is streamed as soon as the length is known; anything else
// waits for the whole object and goes through http.ServeContent.
func (h *Handler) serveRange(w http.ResponseWriter, r *http.Request, rec *telemetry.Record, f *flight, v flightView) {
	start, end, ok := singleRange(r, v.length)
	if !ok {
		h.serveWhole(w, r, rec, f)
		return
	}
	if start < 0 {
		w.Header()["Content-Range"] = []string{"bytes */" + strconv.FormatInt(v.length, 10)}
		writeError416(w, rec)
		return
	}
	writeFlightHeader(w, v, http.StatusPartialContent, end-start+1)
	w.Header()["Content-Range"] = []string{"bytes " + strconv.FormatInt(start, 10) + "-" +
		strconv.FormatInt(end, 10) + "/" + strconv.FormatInt(v.length, 10)}
	w.WriteHeader(http.StatusPartialContent)
	if r.Method == http.MethodHead {
		return
	}
	last, err := h.streamBody(w, r, f, start, end+1)
	h.endStream(rec, last, err)
}

// serveWhole waits for the flight to complete, then answers from its buffer.
func (h *Handler) serveWhole(w http.ResponseWriter, r *http.Request, rec *telemetry.Record, f *flight) {
	v := f.view()
	for !v.done {
		select {
		case <-v.changed:
		case <-r.Context().Done():
			rec.Decide(stage, rec.Outcome, "client_gone")
			return
		}
		v = f.view()
	}
	if v.err != nil {
		h.fallback(w, r, rec, nil, v.err)
		return
	}
	rec.Class = v.final
	serveBuffered(w, r, v.status, v.header, v.body)
}

// writeError416 answers an unsatisfiable range.
func writeError416(w http.ResponseWriter, rec *telemetry.Record) {
	w.Header()["Content-Length"] = []string{"0"}
	rec.Decide(stage, rec.Outcome, "range_not_satisfiable")
	w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
}

// writeFlightHeader sets the flight's headers on w with the given length
// (-1: unknown) and, unless status is 206 (the caller adds Content-Range),
// writes the status.
func writeFlightHeader(w http.ResponseWriter, v flightView, status int, length int64) {
	hdr := w.Header()
	copyHeader(hdr, v.header)
	delete(hdr, "Content-Length")
	if length >= 0 {
		hdr["Content-Length"] = []string{strconv.FormatInt(length, 10)}
	}
	if status != http.StatusPartialContent {
		w.WriteHeader(status)
	}
}

// streamBody writes body bytes [from, to) of f (to -1: all) to w as they
// arrive, flushing each chunk. It returns the last view and why it stopped
// early: errClientGone, or the flight's failure.
func (h *Handler) streamBody(w http.ResponseWriter, r *http.Request, f *flight, from, to int64) (flightView, error) {
	off := from
	for {
		v := f.view()
		end := int64(len(v.body))
		if to >= 0 {
			end = min(end, to)
		}
		if end > off {
			if _, err := w.Write(v.body[off:end]); err != nil {
				return v, errClientGone
			}
			flush(w)
			off = end
			continue
		}
		if (to >= 0 && off >= to) || (v.done && v.err == nil) {
			return v, nil
		}
		if v.done {
			return v, v.err
		}
		select {
		case <-v.changed:
		case <-r.Context().Done():
			return v, errClientGone
		}
	}
}

// endStream records the refined class, or aborts the client's response when
// the origin transfer failed after its headers were sent.
func (h *Handler) endStream(rec *telemetry.Record, v flightView, err error) {
	if v.done {
		rec.Class = v.final
	}
	switch {
	case err == nil:
	case errors.Is(err, errClientGone):
		rec.Reason = "client_gone"
	default:
		h.abort(err)
	}
}

// sameVariant reports whether a joiner may take the flight's answer. It
// asked for the same key, so with the same forwarded headers (the key
// holds them); only "Vary: *" says the answer may differ anyway.
func sameVariant(resp http.Header) bool {
	for _, line := range resp["Vary"] {
		for name := range strings.SplitSeq(line, ",") {
			if textproto.TrimString(name) == "*" {
				return false
			}
		}
	}
	return true
}

// singleRange parses a single "bytes=" range against length. ok is false
// when the request must be answered from the whole object instead: unknown
// length, several ranges, If-Range or other conditionals, or a header that
// is not a byte range. start is -1 when the range is unsatisfiable.
func singleRange(r *http.Request, length int64) (start, end int64, ok bool) {
	ranges := r.Header["Range"]
	if length <= 0 || len(ranges) != 1 || len(r.Header["If-Range"]) > 0 ||
		len(r.Header["If-None-Match"]) > 0 || len(r.Header["If-Modified-Since"]) > 0 ||
		len(r.Header["If-Match"]) > 0 || len(r.Header["If-Unmodified-Since"]) > 0 {
		return 0, 0, false
	}
	spec, found := strings.CutPrefix(ranges[0], "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, 0, false
	}
	return rangeBounds(first, last, length)
}

// rangeBounds resolves "first-last", "first-" or "-suffix" against length.
func rangeBounds(first, last string, length int64) (start, end int64, ok bool) {
	if first == "" {
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n < 0 {
			return 0, 0, false
		}
		if n == 0 {
			return -1, 0, true
		}
		return max(length-n, 0), length - 1, true
	}
	s, err := strconv.ParseInt(first, 10, 64)
	if err != nil || s < 0 {
		return 0, 0, false
	}
	end = length - 1
	if last != "" {
		e, err := strconv.ParseInt(last, 10, 64)
		if err != nil || e < s {
			return 0, 0, false
		}
		end = min(e, length-1)
	}
	if s >= length {
		return -1, 0, true
	}
	return s, end, true
}
