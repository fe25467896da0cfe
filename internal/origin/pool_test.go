package origin

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/rempart/rempart/internal/config"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testUpstream is Upstream with short, test-friendly values; mod edits it.
func testUpstream(mod func(*config.Upstream)) config.Upstream {
	retries := 1
	up := config.Upstream{
		ConnectTimeout:        time.Second,
		ResponseHeaderTimeout: 2 * time.Second,
		FetchTimeout:          3 * time.Second,
		MaxConcurrency:        8,
		QueueTimeout:          200 * time.Millisecond,
		MaxIdleConns:          4,
		Retries:               &retries,
		BreakerFailures:       5,
		BreakerCooldown:       5 * time.Second,
		UnknownShare:          1, // one lane; lane tests set their share
	}
	if mod != nil {
		mod(&up)
	}
	return up
}

// retriesOf returns a pointer for Upstream.Retries.
func retriesOf(n int) *int { return &n }

// newTestPool builds a pool over urls with no backoff, closed at cleanup.
func newTestPool(t *testing.T, up config.Upstream, urls ...string) *Pool {
	t.Helper()
	origins := make([]config.Origin, len(urls))
	for i, u := range urls {
		origins[i] = config.Origin{URL: u}
	}
	p, err := NewPool("test", origins, up, nil)
	if err != nil {
		t.Fatalf("NewPool: %v", err)
	}
	p.backoff = func(int) time.Duration { return 0 }
	t.Cleanup(p.Close)
	return p
}

// fakeOrigin is an httptest origin counting the requests it sees.
type fakeOrigin struct {
	*httptest.Server
	hits atomic.Int64
}

// newOrigin starts an origin running h, closed at cleanup.
func newOrigin(t *testing.T, h http.HandlerFunc) *fakeOrigin {
	t.Helper()
	o := &fakeOrigin{}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(o.Close)
	return o
}

// status returns a handler answering code.
func status(code int) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }
}

// closedURL returns the URL of a local port nobody listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// fetch sends method target (path and query only) through p.
func fetch(t *testing.T, p *Pool, method, target string, body string) (*http.Response, error) {
	t.Helper()
	var rd *strings.Reader
	req, err := http.NewRequestWithContext(context.Background(), method, target, nil)
	if body != "" {
		rd = strings.NewReader(body)
		req, err = http.NewRequestWithContext(context.Background(), method, target, rd)
	}
	if err != nil {
		t.Fatal(err)
	}
	return p.Fetch(context.Background(), req)
}

// mustStatus fails unless resp answered want; it closes the body.
func mustStatus(t *testing.T, resp *http.Response, err error, want int) {
	t.Helper()
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("status = %d, want %d", resp.StatusCode, want)
	}
}

func TestNewPoolRejects(t *testing.T) {
	good := []config.Origin{{URL: "http://127.0.0.1:1"}}
	tests := []struct {
		name    string
		origins []config.Origin
		up      config.Upstream
		want    error
		mention string
	}{
		{"no origins", nil, testUpstream(nil), ErrNoOrigins, "test"},
		{"ftp scheme", []config.Origin{{URL: "ftp://example.com"}}, testUpstream(nil), ErrBadOrigin, "ftp://example.com"},
		{"relative", []config.Origin{{URL: "/just/a/path"}}, testUpstream(nil), ErrBadOrigin, "/just/a/path"},
		{"no host", []config.Origin{{URL: "http://"}}, testUpstream(nil), ErrBadOrigin, "http://"},
		{"query", []config.Origin{{URL: "http://o.example/?a=1"}}, testUpstream(nil), ErrBadOrigin, "?a=1"},
		{"credentials", []config.Origin{{URL: "http://u:p@o.example/"}}, testUpstream(nil), ErrBadOrigin, "credentials"},
		{"unparsable", []config.Origin{{URL: "http://o.example/%zz"}}, testUpstream(nil), ErrBadOrigin, "%zz"},
		{"second bad", []config.Origin{good[0], {URL: "gopher://x"}}, testUpstream(nil), ErrBadOrigin, "gopher://x"},
		{"zero concurrency", good, testUpstream(func(u *config.Upstream) { u.MaxConcurrency = 0 }), ErrBadUpstream, "max_concurrency 0"},
		{"no connect timeout", good, testUpstream(func(u *config.Upstream) { u.ConnectTimeout = 0 }), ErrBadUpstream, "connect_timeout"},
		{"nil retries", good, testUpstream(func(u *config.Upstream) { u.Retries = nil }), ErrBadUpstream, "retries"},
		{"negative retries", good, testUpstream(func(u *config.Upstream) { u.Retries = retriesOf(-1) }), ErrBadUpstream, "retries -1"},
		{"zero breaker failures", good, testUpstream(func(u *config.Upstream) { u.BreakerFailures = 0 }), ErrBadUpstream, "breaker_failures"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewPool("test", tt.origins, tt.up, nil)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("err = %q, want it to name %q", err, tt.mention)
			}
		})
	}
}

func TestTransportsIgnoreProxyEnv(t *testing.T) {
	p := newTestPool(t, testUpstream(nil), "http://127.0.0.1:1", "https://127.0.0.1:2")
	for _, u := range p.origins {
		tr := u.transport
		if tr.Proxy != nil {
			t.Errorf("%s: transport has a Proxy func; want nil", u.url)
		}
		if !tr.DisableCompression {
			t.Errorf("%s: compression enabled", u.url)
		}
		if tr.MaxIdleConnsPerHost != 4 {
			t.Errorf("%s: MaxIdleConnsPerHost = %d, want 4", u.url, tr.MaxIdleConnsPerHost)
		}
		if want := u.base.Scheme == "https"; tr.ForceAttemptHTTP2 != want {
			t.Errorf("%s: ForceAttemptHTTP2 = %v, want %v", u.url, tr.ForceAttemptHTTP2, want)
		}
	}
}

func TestFetchIgnoresProxyEnv(t *testing.T) {
	// Loopback origins bypass env proxies anyway, so this test alone would
	// pass with ProxyFromEnvironment; TestTransportsIgnoreProxyEnv is the
	// guard. This one shows the env changes nothing end to end.
	for _, k := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"} {
		t.Setenv(k, "http://203.0.113.1:9")
	}
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	o := newOrigin(t, status(http.StatusOK))
	p := newTestPool(t, testUpstream(nil), o.URL)
	resp, err := fetch(t, p, http.MethodGet, "/x", "")
	mustStatus(t, resp, err, http.StatusOK)
	if o.hits.Load() != 1 {
		t.Fatalf("origin hits = %d, want 1", o.hits.Load())
	}
}
