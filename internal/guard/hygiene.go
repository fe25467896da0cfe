package guard

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/rempart/rempart/internal/telemetry"
	"github.com/rempart/rempart/internal/urlpath"
)

// Hygiene refuses requests an edge must never act on: CONNECT and TRACE,
// and any request whose target is not a plain path (absolute-form
// "http://host/..." or asterisk-form "*"). Refusing absolute-form stops the
// edge from ever being used as an open forward proxy, whatever Host the URI
// names. The path is normalized (urlpath.Normalize) before anything judges
// it: every later stage, the cache key and the origin see the normal path,
// and a path that climbs above the root or hides a separator is refused.
// Over TLS, a chunked HTTP/1 request closes its connection after the
// answer (on cleartext listeners WatchFraming refuses the requests that
// need it).
type Hygiene struct {
	Next http.Handler
}

var _ http.Handler = (*Hygiene)(nil)

// ServeHTTP checks the request line, then passes the request on.
func (h *Hygiene) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodConnect:
		refuseMethod(w, "connect", "CONNECT is not accepted: this edge is not a proxy")
		return
	case http.MethodTrace:
		refuseMethod(w, "trace", "TRACE is not accepted")
		return
	}
	// r.RequestURI is the target as sent (HTTP/1) or :path (HTTP/2).
	if len(r.RequestURI) == 0 || r.RequestURI[0] != '/' || r.URL.IsAbs() {
		telemetry.Refuse(w, "guard", telemetry.OutcomeRefused, "absolute_uri", http.StatusBadRequest,
			"request target must be a path starting with /: this edge is not a proxy", 0)
		return
	}
	r, ok := normalPath(w, r)
	if !ok {
		return
	}
	if r.TLS != nil && r.ProtoMajor == 1 && len(r.TransferEncoding) > 0 {
		// Under TLS no watcher reads the header block (WatchFraming), and
		// Go's server has dropped a Content-Length sent alongside: close
		// after any chunked request, as RFC 9112 §6.1 asks when both came.
		w.Header()["Connection"] = []string{"close"}
	}
	h.Next.ServeHTTP(w, r)
}

func refuseMethod(w http.ResponseWriter, reason, msg string) {
	w.Header().Set("Allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")
	telemetry.Refuse(w, "guard", telemetry.OutcomeRefused, reason, http.StatusMethodNotAllowed, msg, 0)
}

// normalPath returns r with its path in normal form (a shallow copy when it
// changed, as http.StripPrefix makes), or refuses r and reports false.
func normalPath(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	escaped := r.URL.EscapedPath()
	p, err := urlpath.Normalize(escaped)
	if err != nil {
		reason, msg := pathRefusal(err)
		telemetry.Refuse(w, "guard", telemetry.OutcomeRefused, reason, http.StatusBadRequest, msg, 0)
		return nil, false
	}
	if p == escaped {
		return r, true
	}
	decoded, _ := url.PathUnescape(p) // p holds only valid escapes, no %2F
	r2 := new(http.Request)
	*r2 = *r
	u := *r.URL
	u.Path, u.RawPath = decoded, p
	r2.URL = &u
	r2.RequestURI = u.RequestURI()
	return r2, true
}

// pathRefusal is the recorded reason and the client's message for a path
// Normalize refused.
func pathRefusal(err error) (reason, msg string) {
	switch {
	case errors.Is(err, urlpath.ErrEscapesRoot):
		return "path_escapes_root", "path climbs above the root with ..: ask for the path without it"
	case errors.Is(err, urlpath.ErrEncodedSeparator):
		return "path_encoded_separator", "path holds an encoded slash or backslash (%2F, %5C): not accepted"
	case errors.Is(err, urlpath.ErrControl):
		return "path_control_char", "path holds an encoded control character (%00-%1F): not accepted"
	}
	return "path_bad_escape", "path holds a malformed percent-encoding: % must be followed by two hex digits"
}
