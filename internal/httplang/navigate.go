package httplang

import (
	"net/http"
	"strings"
)

// Navigating reports whether r is a browser navigating to a page, which
// should get one of the edge's pages rather than a JSON answer: Fetch
// Metadata says so where the browser sends it, the Accept header otherwise.
func Navigating(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	switch r.Header.Get("Sec-Fetch-Dest") {
	case "document", "iframe", "frame":
		return true
	case "":
		return strings.Contains(r.Header.Get("Accept"), "text/html")
	}
	return false
}
