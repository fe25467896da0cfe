package guard

import (
	"maps"
	"sync"
)

// maxH2ErrorTypes bounds the distinct error types H2Errors keeps; Go's
// server names a few dozen, and a type past the bound is counted as
// "other" rather than growing the table.
const maxH2ErrorTypes = 64

// H2Errors counts the HTTP/2 protocol errors Go's server reports through
// http.HTTP2Config.CountError, by type ("conn_ENHANCE_YOUR_CALM_too_many_early_resets",
// "stream_PROTOCOL_ERROR_headers_half_closed"...): its own defences against
// rapid reset, CONTINUATION floods and malformed frames, seen in metrics.
// The zero value is ready to use.
type H2Errors struct {
	mu sync.Mutex // guards n
	n  map[string]int64
}

// Count adds one error of type typ.
func (h *H2Errors) Count(typ string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n == nil {
		h.n = make(map[string]int64)
	}
	if _, ok := h.n[typ]; !ok && len(h.n) >= maxH2ErrorTypes-1 {
		typ = "other"
	}
	h.n[typ]++
}

// Snapshot returns a copy of the counts by type.
func (h *H2Errors) Snapshot() map[string]int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return maps.Clone(h.n)
}
