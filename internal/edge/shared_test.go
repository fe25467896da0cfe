package edge_test

import (
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/edge"
	"github.com/rempart/rempart/internal/testkit"
)

// TestSharedFetchIgnoresOneClientsHeaders: through the whole edge, the
// first request for a new segment carries headers that make the origin
// refuse it (X-HTTP-Method-Override) or shape its answer; the viewers
// waiting on that fetch still get the segment, and the origin never sees
// those headers (issue 11, hole 3). A header the site lists
// (sites[].shared_headers) reaches it, and is its own object.
func TestSharedFetchIgnoresOneClientsHeaders(t *testing.T) {
	var mu sync.Mutex // guards seen
	var seen []http.Header
	arrived, release := make(chan struct{}, 64), make(chan struct{})
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		mu.Unlock()
		arrived <- struct{}{}
		<-release
		if r.Header.Get("X-HTTP-Method-Override") != "" {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "video/mp2t")
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = io.WriteString(w, "segment "+r.Header.Get("Accept-Encoding"))
	})
	cfg := quick(t, o.URL)
	cfg.Sites[0].SharedHeaders = []string{"accept-encoding"}
	e := startEdge(t, cfg, edge.Options{})
	url := "http://" + e.Addr() + "/live/a/new.ts"
	tr := testkit.CrowdTransport(64)
	tr.DisableCompression = true // no Accept-Encoding unless a test sets it
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	ask := func(hdr ...string) (int, string) {
		req, _ := http.NewRequest("GET", url, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, body := testkit.Fetch(t, c, req)
		return resp.StatusCode, string(body)
	}
	var wg sync.WaitGroup
	codes := make(chan int, 21)
	wg.Go(func() {
		code, _ := ask("X-HTTP-Method-Override", "PURGE", "X-Original-URL", "/admin", "X-Rewrite-URL", "/admin",
			"X-Host", "evil.example", "X-Api-Key", "k", "User-Agent", "evil/1", "Accept-Language", "xx")
		codes <- code
	})
	<-arrived
	for range 20 {
		wg.Go(func() { code, _ := ask(); codes <- code })
	}
	time.Sleep(200 * time.Millisecond) // the viewers join the flight
	close(release)
	wg.Wait()
	close(codes)
	for code := range codes {
		if code != http.StatusOK {
			t.Fatalf("a requester got %d, want 200 for all", code)
		}
	}
	if code, body := ask("Accept-Encoding", "gzip"); code != http.StatusOK || body != "segment gzip" {
		t.Fatalf("listed header: %d %q, want its own object fetched with it", code, body)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 {
		t.Fatalf("origin requests = %d, want 2 (the shared fetch, the gzip variant)", len(seen))
	}
	for _, name := range []string{"X-HTTP-Method-Override", "X-Original-URL", "X-Rewrite-URL", "X-Host", "X-Api-Key", "Accept-Language"} {
		if v := seen[0].Get(name); v != "" {
			t.Errorf("shared fetch carried %s: %q", name, v)
		}
	}
	if ua := seen[0].Get("User-Agent"); ua == "evil/1" {
		t.Errorf("shared fetch carried the first client's User-Agent")
	}
}
