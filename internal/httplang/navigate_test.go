package httplang

import (
	"net/http/httptest"
	"testing"
)

func TestNavigating(t *testing.T) {
	for _, tt := range []struct {
		method, dest, accept string
		want                 bool
	}{
		{"GET", "document", "", true},
		{"HEAD", "iframe", "", true},
		{"GET", "", "text/html,application/xhtml+xml", true},
		{"GET", "empty", "text/html", false}, // fetch() from a page: Fetch Metadata wins
		{"GET", "", "application/json", false},
		{"POST", "document", "text/html", false},
	} {
		r := httptest.NewRequest(tt.method, "/", nil)
		if tt.dest != "" {
			r.Header.Set("Sec-Fetch-Dest", tt.dest)
		}
		if tt.accept != "" {
			r.Header.Set("Accept", tt.accept)
		}
		if got := Navigating(r); got != tt.want {
			t.Errorf("%s dest=%q accept=%q: %v, want %v", tt.method, tt.dest, tt.accept, got, tt.want)
		}
	}
}
