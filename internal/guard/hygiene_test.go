package guard

import (
	"bufio"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/testkit"
)

// TestHygieneOverTheWire sends raw request lines to a real server, since the
// forms refused here cannot all be built with http.NewRequest.
func TestHygieneOverTheWire(t *testing.T) {
	var passed atomic.Int32
	srv := httptest.NewUnstartedServer(&Hygiene{Next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		passed.Add(1)
		io.WriteString(w, "ok")
	})})
	Apply(srv.Config, config.Limits{ReadHeaderTimeout: time.Second, ReadTimeout: time.Second,
		WriteTimeout: time.Second, IdleTimeout: time.Second, MaxHeaderBytes: 4096}, nil)
	srv.Start()
	defer srv.Close()

	tests := []struct {
		name, line string
		want       int
	}{
		{"path", "GET /live/a.ts HTTP/1.1", 200},
		{"absolute", "GET http://169.254.169.254/latest HTTP/1.1", 400},
		{"absolute same host", "GET http://example/ HTTP/1.1", 400},
		{"connect", "CONNECT 10.0.0.1:443 HTTP/1.1", 405},
		{"trace", "TRACE / HTTP/1.1", 405},
		{"asterisk", "OPTIONS * HTTP/1.1", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := passed.Load()
			code := testkit.RawStatus(t, srv.Listener.Addr().String(), tt.line+"\r\nHost: example\r\n\r\n")
			if code != tt.want {
				t.Fatalf("status = %d, want %d", code, tt.want)
			}
			if (passed.Load() > before) != (tt.want == 200) {
				t.Fatalf("request reached the next stage: %v", passed.Load() > before)
			}
		})
	}
}

func TestHugeHeadersRefused(t *testing.T) {
	srv := httptest.NewUnstartedServer(&Hygiene{Next: http.NotFoundHandler()})
	Apply(srv.Config, config.Limits{ReadHeaderTimeout: time.Second, MaxHeaderBytes: 4096}, nil)
	srv.Start()
	defer srv.Close()
	big := "X-Big: " + strings.Repeat("a", 64<<10) + "\r\n"
	if code := testkit.RawStatus(t, srv.Listener.Addr().String(), "GET / HTTP/1.1\r\nHost: x\r\n"+big+"\r\n"); code != 431 {
		t.Fatalf("status = %d, want 431", code)
	}
}

// BenchmarkRefuseAbsoluteURI measures the refusal path: what an attack of
// proxy attempts costs the edge per request, beyond net/http's parsing.
func BenchmarkRefuseAbsoluteURI(b *testing.B) {
	h := &Hygiene{Next: http.NotFoundHandler()}
	r := httptest.NewRequest("GET", "http://169.254.169.254/latest", nil)
	r.RequestURI = "http://169.254.169.254/latest"
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark
// counts the stage's own cost.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

func (d *discardWriter) WriteString(s string) (int, error) { return len(s), nil }

// TestChunkedOverTLSCloses: under TLS the framing watcher cannot read the
// header block, so a chunked HTTP/1 request, which may have come with a
// Content-Length Go's server dropped, closes its connection after the
// answer (RFC 9112 §6.1); other requests keep theirs.
func TestChunkedOverTLSCloses(t *testing.T) {
	srv := httptest.NewTLSServer(&Hygiene{Next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		io.WriteString(w, "ok")
	})})
	defer srv.Close()
	tests := []struct {
		name, req string
		closed    bool
	}{
		{"CL and TE", smuggled, true},
		{"chunked", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", true},
		{"Content-Length", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tls.Dial("tcp", srv.Listener.Addr().String(), &tls.Config{InsecureSkipVerify: true})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(3 * time.Second))
			if _, err := io.WriteString(c, tt.req); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if closed := serverClosed(c, br); closed != tt.closed || resp.Close != tt.closed {
				t.Fatalf("closed %v (Connection: close %v), want %v", closed, resp.Close, tt.closed)
			}
		})
	}
}

// TestHygieneNormalizesPath: the next stage sees the normal path in
// URL.Path, URL.EscapedPath and RequestURI, query kept; a path that climbs
// above the root or hides a separator is refused before it.
func TestHygieneNormalizesPath(t *testing.T) {
	seen := make(chan [3]string, 1)
	srv := httptest.NewServer(&Hygiene{Next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- [3]string{r.URL.Path, r.URL.EscapedPath(), r.RequestURI}
	})})
	defer srv.Close()
	tests := []struct {
		target string
		want   [3]string
		code   int
	}{
		{"/live/a.ts?x=1", [3]string{"/live/a.ts", "/live/a.ts", "/live/a.ts?x=1"}, 200},
		{"//api/login", [3]string{"/api/login", "/api/login", "/api/login"}, 200},
		{"/./api/login?u=1", [3]string{"/api/login", "/api/login", "/api/login?u=1"}, 200},
		{"/x/../api/login", [3]string{"/api/login", "/api/login", "/api/login"}, 200},
		{"/%6eorm%20x.ts", [3]string{"/norm x.ts", "/norm%20x.ts", "/norm%20x.ts"}, 200},
		{"/../x.ts", [3]string{}, 400},
		{"/a/..%2f..%2fetc", [3]string{}, 400},
		{"/a%00.ts", [3]string{}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			code := testkit.RawStatus(t, srv.Listener.Addr().String(), "GET "+tt.target+" HTTP/1.1\r\nHost: x\r\n\r\n")
			if code != tt.code {
				t.Fatalf("status %d, want %d", code, tt.code)
			}
			if code != 200 {
				return
			}
			if got := <-seen; got != tt.want {
				t.Fatalf("next stage saw %q, want %q", got, tt.want)
			}
		})
	}
}
