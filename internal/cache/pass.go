package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/rempart/rempart/internal/telemetry"
)

// errClientGone: writing to the client failed; it went away.
var errClientGone = errors.New("client gone")

// pass forwards r to the origin on its own, uncoalesced and uncached: the
// request body is streamed up, the answer streamed back. keepCreds forwards
// Authorization and Cookie (api requests only). The fetch lives in the
// client's context, bounded by the fetch timeout.
func (h *Handler) pass(w http.ResponseWriter, r *http.Request, rec *telemetry.Record, rawQuery string, keepCreds bool, reason string) {
	h.store.stats.Passes.Add(1)
	ctx, cancel := context.WithTimeout(r.Context(), h.fetchTimeout)
	defer cancel()
	body := io.Reader(r.Body)
	if r.Body == nil || r.ContentLength == 0 {
		body = http.NoBody
	}
	out, err := http.NewRequestWithContext(ctx, r.Method, "/", body)
	if err != nil {
		writeError(w, r, rec, http.StatusBadGateway, "bad_request")
		return
	}
	out.URL = &url.URL{Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: rawQuery}
	out.Header = passHeader(r, keepCreds)
	out.ContentLength = r.ContentLength
	if body == http.NoBody {
		out.ContentLength = 0
	}
	resp, err := h.fetcher.Fetch(ctx, out)
	if err != nil {
		code, why := errorStatus(err)
		if code >= 500 { // a client's bad body is no news for the log
			h.store.logs.warn(h.log, h.store.now(), "origin pass failed", "path", r.URL.Path, "err", err)
		}
		writeError(w, r, rec, code, why)
		return
	}
	defer resp.Body.Close()
	stripHop(resp.Header)
	rec.Decide(stage, telemetry.OutcomePass, reason)
	h.relay(w, resp, r.Method == http.MethodHead)
}

// relay streams an origin answer to the client. If the origin transfer
// fails after the headers went out, the client's response is aborted so it
// sees a truncated transfer, never a silently short body.
func (h *Handler) relay(w http.ResponseWriter, resp *http.Response, head bool) {
	copyHeader(w.Header(), resp.Header)
	w.WriteHeader(resp.StatusCode)
	if head {
		return
	}
	buf := make([]byte, readChunk)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			flush(w)
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			h.abort(fmt.Errorf("relay body: %w", err))
		}
	}
}

// abort cuts the client's response short (see http.ErrAbortHandler): the
// server closes the stream without completing it.
func (h *Handler) abort(err error) {
	h.store.stats.Aborted.Add(1)
	h.store.logs.warn(h.log, h.store.now(), "response aborted", "err", err)
	panic(http.ErrAbortHandler)
}
