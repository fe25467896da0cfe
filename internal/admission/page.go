package admission

import "net/http"

// page answers a browser navigating to a gated page with the waiting page.
func (s *Stage) page(w http.ResponseWriter, r *http.Request, tu turn) {
	writeJSON(w, http.StatusServiceUnavailable, turnAnswer("", tu))
}
