package edge_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/edge"
	"github.com/rempart/rempart/internal/testkit"
)

// rawGet sends a GET of target as raw bytes, so that the path reaches the
// edge exactly as written, and returns the status.
func rawGet(t *testing.T, e *edge.Edge, target string) int {
	t.Helper()
	return testkit.RawStatus(t, e.Addr(), "GET "+target+" HTTP/1.1\r\nHost: x\r\n\r\n")
}

// TestPathVariantsHitTheLoginLimit: spellings of /api/login that reach the
// same handler at the origin are judged as /api/login (issue 11, hole 4:
// each escaped the login rate limit).
func TestPathVariantsHitTheLoginLimit(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	cfg := quick(t, o.URL)
	cfg.Shield.Rates = []config.RateLimit{{Key: "ip", Paths: []string{"/api/login"}, Rate: 0.01, Burst: 1}}
	e := startEdge(t, cfg, edge.Options{})
	if code := rawGet(t, e, "/api/login"); code != http.StatusOK {
		t.Fatalf("first login: status %d, want 200", code)
	}
	for _, target := range []string{"//api/login", "/./api/login", "/x/../api/login", "/api/%6Cogin"} {
		if code := rawGet(t, e, target); code != http.StatusTooManyRequests {
			t.Errorf("%s: status %d, want 429 (the login limit)", target, code)
		}
	}
	if n := o.all.Load(); n != 1 {
		t.Fatalf("origin saw %d logins, want 1", n)
	}
}

// TestPathVariantsShareOneObject: spellings of one path are one cache
// object and one origin fetch, of the normal path (issue 11, hole 4: each
// was a new origin fetch).
func TestPathVariantsShareOneObject(t *testing.T) {
	o := newOrigin(t, segmentOrigin(0, 100))
	e := startEdge(t, quick(t, o.URL), edge.Options{})
	for _, target := range []string{"/%6eorm.ts", "//norm.ts", "/x/../norm.ts", "/./norm.ts", "/norm.ts"} {
		if code := rawGet(t, e, target); code != http.StatusOK {
			t.Fatalf("%s: status %d, want 200", target, code)
		}
	}
	if n, all := o.count("/norm.ts"), o.all.Load(); n != 1 || all != 1 {
		t.Fatalf("origin saw /norm.ts %d times and %d requests in all, want 1 and 1", n, all)
	}
}

// TestPathAboveRootRefused: a path that climbs above the root gets 400 and
// never reaches the origin as <base>/../x.ts (issue 11, hole 4).
func TestPathAboveRootRefused(t *testing.T) {
	o := newOrigin(t, segmentOrigin(0, 100))
	e := startEdge(t, quick(t, o.URL+"/base"), edge.Options{})
	for _, target := range []string{"/../x.ts", "/a/../../x.ts", "/%2e%2e/x.ts", "/live/..%2f..%2fx.ts"} {
		if code := rawGet(t, e, target); code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", target, code)
		}
	}
	if n := o.all.Load(); n != 0 {
		t.Fatalf("origin saw %d requests, want 0", n)
	}
}
