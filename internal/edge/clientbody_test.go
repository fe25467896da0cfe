package edge_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/rempart/rempart/internal/edge"
	"github.com/rempart/rempart/internal/testkit"
)

// TestClientBodyErrorsSpareTheBreaker: POSTs whose chunked body is
// malformed fail while the edge reads the client, not the origin. Today's
// main blamed the origin: six of them opened its breaker and every miss of
// the site got 502 for the cool-down (issue 11, hole 2). Each must get 400,
// and a miss right after must still reach the origin.
func TestClientBodyErrorsSpareTheBreaker(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "video/mp2t")
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = io.WriteString(w, "segment")
	})
	cfg := quick(t, o.URL)
	cfg.Sites[0].Upstream.BreakerFailures = 2
	e := startEdge(t, cfg, edge.Options{})
	const bad = "POST /api/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"5\r\nhello\r\nzz\r\nnot a chunk\r\n0\r\n\r\n"
	for i := range 8 {
		if code := testkit.RawStatus(t, e.Addr(), bad); code != http.StatusBadRequest {
			t.Fatalf("malformed chunked POST %d: status %d, want 400", i+1, code)
		}
	}
	code, body, _ := get(t, http.DefaultClient, "http://"+e.Addr()+"/live/a/1.ts")
	if code != http.StatusOK || body != "segment" {
		t.Fatalf("miss after the bad POSTs: status %d body %q, want 200 from the origin", code, body)
	}
	if got := o.count("/live/a/1.ts"); got != 1 {
		t.Fatalf("origin saw the miss %d times, want 1", got)
	}
}
