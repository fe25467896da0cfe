package edge_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/edge"
	"github.com/rempart/rempart/internal/testkit"
)

func segmentOrigin(delay time.Duration, size int) http.HandlerFunc {
	body := strings.Repeat("s", size)
	return func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(delay)
		w.Header().Set("Content-Type", "video/mp2t")
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, body)
	}
}

// TestFlashCrowdOneOriginFetch: 2,000 clients ask for one new segment at
// once, over real connections; the origin sees exactly one request.
func TestFlashCrowdOneOriginFetch(t *testing.T) {
	o := newOrigin(t, segmentOrigin(200*time.Millisecond, 256<<10))
	e := startEdge(t, quick(t, o.URL), edge.Options{})
	tr := testkit.CrowdTransport(2000) // 2,000 viewers are 2,000 addresses
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	const n = 2000
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.Get("http://" + e.Addr() + "/live/720p/1001.ts")
			if err != nil {
				errs <- err
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || len(b) != 256<<10 {
				errs <- fmt.Errorf("status %d, %d bytes", resp.StatusCode, len(b))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("viewer failed: %v", err)
	}
	if got := o.count("/live/720p/1001.ts"); got != 1 {
		t.Fatalf("origin requests for the segment = %d, want 1", got)
	}
	m := scrape(t, e)
	if l := metricLine(m, `rempart_cache_origin_fetches_total`); !strings.HasSuffix(l, " 1") {
		t.Errorf("metrics: %q, want 1 origin fetch", l)
	}
}

// TestRandomQueryStringsNoOriginFetch: cache-busting query strings on
// segments and playlists never reach the origin.
func TestRandomQueryStringsNoOriginFetch(t *testing.T) {
	o := newOrigin(t, segmentOrigin(0, 1000))
	e := startEdge(t, quick(t, o.URL), edge.Options{})
	base := "http://" + e.Addr()
	for i := range 200 {
		code, _, _ := get(t, http.DefaultClient, fmt.Sprintf("%s/live/a/7.ts?bust=%d&x=%d", base, i, i*7))
		if code != 200 {
			t.Fatalf("status %d", code)
		}
	}
	if o.all.Load() != 1 {
		t.Fatalf("origin saw %d requests, want 1 (hits: %v)", o.all.Load(), o.hits)
	}
}

// TestBadInputKeepsServing sends hostile requests over raw connections and
// checks each gets a clear 4xx and that the edge still serves afterwards.
func TestBadInputKeepsServing(t *testing.T) {
	o := newOrigin(t, segmentOrigin(0, 10))
	cfg := quick(t, o.URL)
	cfg.Sites[0].Hosts = []string{"live.example"}
	e := startEdge(t, cfg, edge.Options{})
	tests := []struct {
		name, req string
		want      int
	}{
		{"unknown host", "GET /a.ts HTTP/1.1\r\nHost: evil.example\r\n\r\n", 421},
		{"absolute uri", "GET http://169.254.169.254/latest/meta-data HTTP/1.1\r\nHost: live.example\r\n\r\n", 400},
		{"absolute uri to own host", "GET http://live.example/a.ts HTTP/1.1\r\nHost: live.example\r\n\r\n", 400},
		{"connect", "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n", 405},
		{"garbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400},
		{"no host", "GET /a.ts HTTP/1.1\r\n\r\n", 400},
		{"huge headers", "GET /a.ts HTTP/1.1\r\nHost: live.example\r\nX: " + strings.Repeat("a", 1<<20) + "\r\n\r\n", 431},
		{"bad version", "GET /a.ts HTTP/9.9\r\nHost: live.example\r\n\r\n", 505},
		{"ok", "GET /a.ts HTTP/1.1\r\nHost: live.example\r\n\r\n", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := testkit.RawStatus(t, e.Addr(), tt.req); got != tt.want {
				t.Fatalf("status %d, want %d", got, tt.want)
			}
		})
	}
	if o.all.Load() != 1 {
		t.Fatalf("origin saw %d requests, want only the good one", o.all.Load())
	}
	m := scrape(t, e)
	if l := metricLine(m, `rempart_requests_total{class="unknown",outcome="refused"}`); !strings.HasSuffix(l, " 4") {
		t.Errorf("refused requests metric = %q, want 4 (host, 2 absolute, connect)", l)
	}
}

// TestAdminEndpoints: metrics by class and outcome, health, readiness, pprof.
func TestAdminEndpoints(t *testing.T) {
	o := newOrigin(t, segmentOrigin(0, 100))
	e := startEdge(t, quick(t, o.URL), edge.Options{})
	base := "http://" + e.Addr()
	get(t, http.DefaultClient, base+"/live/a/1.ts")
	get(t, http.DefaultClient, base+"/live/a/1.ts")
	m := scrape(t, e)
	for _, want := range []string{
		`rempart_requests_total{class="segment",outcome="miss"} 1`,
		`rempart_requests_total{class="segment",outcome="hit"} 1`,
		`rempart_origin_responses_total{code="2xx",site="default"} 1`,
		`rempart_cache_objects 1`,
		`rempart_origin_breaker_state{origin="` + o.URL + `",site="default"} 0`,
		`rempart_ready 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/debug/pprof/": 200, "/nope": 404} {
		if code, _, _ := get(t, http.DefaultClient, "http://"+e.AdminAddr()+path); code != want {
			t.Errorf("admin %s = %d, want %d", path, code, want)
		}
	}
	// The admin endpoints are not on the public listener.
	if code, _, _ := get(t, http.DefaultClient, base+"/metrics"); code == 200 && o.count("/metrics") == 0 {
		t.Error("public listener answered /metrics itself")
	}
}

// TestReloadKeepsOldOnError swaps origins on a good reload and keeps the
// running configuration on a bad one.
func TestReloadKeepsOldOnError(t *testing.T) {
	a := newOrigin(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "A") })
	b := newOrigin(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "B") })
	e := startEdge(t, quick(t, a.URL), edge.Options{})
	base := "http://" + e.Addr()
	if _, body, _ := get(t, http.DefaultClient, base+"/api/x"); body != "A" {
		t.Fatalf("before reload body = %q", body)
	}
	bad := quick(t, b.URL)
	bad.Sites[0].Routes = []config.Route{{Prefix: "/x", Class: "nonsense"}}
	if err := e.Reload(bad); err == nil {
		t.Fatal("reload with a bad route class succeeded")
	}
	if _, body, _ := get(t, http.DefaultClient, base+"/api/y"); body != "A" {
		t.Fatalf("after failed reload body = %q, want A (old config kept)", body)
	}
	if err := e.Reload(quick(t, b.URL)); err != nil {
		t.Fatalf("good reload: %v", err)
	}
	if _, body, _ := get(t, http.DefaultClient, base+"/api/z"); body != "B" {
		t.Fatalf("after reload body = %q, want B", body)
	}
	m := scrape(t, e)
	if !strings.Contains(m, `rempart_config_reloads_total{result="ok"} 1`) ||
		!strings.Contains(m, `rempart_config_reloads_total{result="error"} 1`) {
		t.Error("reload counters wrong")
	}
}

// TestGracefulShutdown: a request in flight when the stop comes completes.
func TestGracefulShutdown(t *testing.T) {
	o := newOrigin(t, segmentOrigin(500*time.Millisecond, 1000))
	cfg := quick(t, o.URL)
	cfg.Listen, cfg.Admin.Listen = "127.0.0.1:0", "off"
	e, err := edge.New(cfg, edge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + e.Addr() + "/slow.ts")
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("in-flight request failed during shutdown: %v", err)
	}
	if err := e.Wait(); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if _, err := net.DialTimeout("tcp", e.Addr(), 200*time.Millisecond); err == nil {
		t.Fatal("listener still open after shutdown")
	}
}

// TestConfigFileServe runs the edge from the documented example file,
// pointed at a test origin.
func TestConfigFileServe(t *testing.T) {
	o := newOrigin(t, segmentOrigin(0, 10))
	data, err := os.ReadFile("../../rempart.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rempart.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("example config: %v", err)
	}
	for i := range cfg.Sites {
		cfg.Sites[i].Origins = []config.Origin{{URL: o.URL}}
	}
	cfg.TLS = config.TLS{}
	e := startEdge(t, cfg, edge.Options{})
	host := cfg.Sites[0].Hosts[0]
	if host == "*" {
		host = "anything"
	}
	req, _ := http.NewRequest("GET", "http://"+e.Addr()+"/live/x/1.ts", nil)
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d via host %q", resp.StatusCode, host)
	}
}
