package cache

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/telemetry"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeClock is a settable clock for WithClock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// testFetcher sends requests to a loopback origin whose address it can
// switch (to a closed port, for "connection refused").
type testFetcher struct {
	host atomic.Pointer[string]
	rt   *http.Transport
}

func (f *testFetcher) Fetch(ctx context.Context, req *http.Request) (*http.Response, error) {
	out := req.Clone(ctx)
	u := *req.URL
	u.Scheme, u.Host = "http", *f.host.Load()
	out.URL, out.Host = &u, ""
	return f.rt.RoundTrip(out)
}

func (f *testFetcher) point(host string) { f.host.Store(&host) }

// deadAddr returns a loopback address nobody listens on.
func deadAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// env is a cache stage in front of a loopback origin.
type env struct {
	t       testing.TB
	clock   *fakeClock
	store   *Store
	h       *Handler
	origin  *httptest.Server
	fetch   *testFetcher
	fetches atomic.Int64 // requests the origin received
}

type envOpts struct {
	cfg          config.Cache
	policies     [telemetry.NumClasses]config.Policy
	fetchTimeout time.Duration
	realClock    bool
}

func defaultOpts() envOpts {
	return envOpts{
		cfg: config.Cache{
			MaxBytes: 64 << 20, MaxObjectBytes: 8 << 20, WaitTimeout: 2 * time.Second,
		},
		policies:     config.ClassDefaults,
		fetchTimeout: 2 * time.Second,
	}
}

func newEnv(t testing.TB, origin http.HandlerFunc, o envOpts) *env {
	t.Helper()
	e := &env{t: t, clock: newFakeClock()}
	e.origin = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.fetches.Add(1)
		origin(w, r)
	}))
	t.Cleanup(e.origin.Close)
	e.fetch = &testFetcher{rt: &http.Transport{MaxIdleConnsPerHost: 64}}
	e.fetch.point(e.origin.Listener.Addr().String())
	t.Cleanup(e.fetch.rt.CloseIdleConnections)
	var opts []Option
	if !o.realClock {
		opts = append(opts, WithClock(e.clock.Now))
	}
	s, err := NewStore(o.cfg, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	e.store = s
	e.h = NewHandler(s, "site", o.policies, e.fetch, o.fetchTimeout, nil)
	return e
}

// result is one answer of the cache stage, with its record.
type result struct {
	code   int
	header http.Header
	body   string
	rec    telemetry.Record
}

// do calls the handler directly, as the route stage would with class cls.
// hdr is name, value, name, value...
func (e *env) do(method, target string, cls telemetry.Class, hdr ...string) result {
	return e.doCtx(context.Background(), method, target, cls, hdr...)
}

func (e *env) doCtx(ctx context.Context, method, target string, cls telemetry.Class, hdr ...string) result {
	rr := httptest.NewRecorder()
	tw := telemetry.NewWriter(rr, time.Now())
	tw.Rec.Class = cls
	req := httptest.NewRequestWithContext(ctx, method, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	e.h.ServeHTTP(tw, req)
	res := result{code: rr.Code, header: rr.Header(), body: rr.Body.String(), rec: tw.Rec}
	tw.Release()
	return res
}

// edge serves the cache stage over loopback HTTP, classifying by suffix.
func (e *env) edge() *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tw := telemetry.NewWriter(w, time.Now())
		defer tw.Release()
		tw.Rec.Class = classOf(r.URL.Path)
		e.h.ServeHTTP(tw, r)
	}))
	e.t.Cleanup(srv.Close)
	return srv
}

func classOf(path string) telemetry.Class {
	switch {
	case strings.HasSuffix(path, ".m3u8"):
		return telemetry.ClassMedia
	case strings.HasSuffix(path, ".ts"), strings.HasSuffix(path, ".m4s"):
		return telemetry.ClassSegment
	}
	return telemetry.ClassAPI
}

// get fetches url with a client whose idle connections are closed at the end
// of the test.
func get(t *testing.T, c *http.Client, url string) (*http.Response, string, error) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

func newClient(t *testing.T) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// waitFor polls cond until it holds or a second passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

const playlist = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:1\n#EXTINF:4.0,\nseg1.ts\n"
