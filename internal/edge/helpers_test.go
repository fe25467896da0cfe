package edge_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/edge"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// Idle keep-alive connections of http.DefaultTransport in clients.
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"))
}

// countingOrigin is a real HTTP origin on loopback that counts requests by
// path and answers with handler.
type countingOrigin struct {
	*httptest.Server
	mu   sync.Mutex // protects hits
	hits map[string]int
	all  atomic.Int64
}

func newOrigin(t *testing.T, handler http.HandlerFunc) *countingOrigin {
	t.Helper()
	o := &countingOrigin{hits: map[string]int{}}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.hits[r.URL.RequestURI()]++
		o.mu.Unlock()
		o.all.Add(1)
		handler(w, r)
	}))
	t.Cleanup(o.Close)
	return o
}

func (o *countingOrigin) count(uri string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.hits[uri]
}

// startEdge runs an edge for cfg on loopback ports and stops it at cleanup.
func startEdge(t testing.TB, cfg *config.Config, opts edge.Options) *edge.Edge {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	if cfg.Admin.Listen != "off" {
		cfg.Admin.Listen = "127.0.0.1:0"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		if testing.Verbose() {
			opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
		}
	}
	e, err := edge.New(cfg, opts)
	if err != nil {
		t.Fatalf("edge.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := e.Start(ctx); err != nil {
		cancel()
		t.Fatalf("edge.Start: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := e.Wait(); err != nil {
			t.Errorf("edge stopped with: %v", err)
		}
	})
	return e
}

// quick is the quick-start configuration in front of origin.
func quick(t testing.TB, origin string) *config.Config {
	t.Helper()
	cfg, err := config.Quick("127.0.0.1:0", origin)
	if err != nil {
		t.Fatalf("config.Quick: %v", err)
	}
	return cfg
}

// get fetches url and returns status, body and headers.
func get(t *testing.T, c *http.Client, url string, hdr ...string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp.StatusCode, string(b), resp.Header
}

// scrape returns the admin /metrics text.
func scrape(t *testing.T, e *edge.Edge) string {
	t.Helper()
	_, body, _ := get(t, http.DefaultClient, "http://"+e.AdminAddr()+"/metrics")
	return body
}

// metricLine finds the sample line of a metric with the given labels.
func metricLine(metrics, prefix string) string {
	for _, l := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

func eventually(t *testing.T, within time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out after %v waiting for %s", within, what)
}
