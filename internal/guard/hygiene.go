package guard

import (
	"net/http"

	"github.com/rempart/rempart/internal/telemetry"
)

// Hygiene refuses requests an edge must never act on: CONNECT and TRACE,
// and any request whose target is not a plain path (absolute-form
// "http://host/..." or asterisk-form "*"). Refusing absolute-form stops the
// edge from ever being used as an open forward proxy, whatever Host the URI
// names. Over TLS, a chunked HTTP/1 request closes its connection after
// the answer (on cleartext listeners WatchFraming refuses the requests
// that need it).
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
