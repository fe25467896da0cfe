package attack

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/siege/sim"
)

// TestFloodResponses checks the HTTP/1.1 engine against net/http's server:
// every framing of a body, keep-alive reuse, and Connection: close.
func TestFloodResponses(t *testing.T) {
	var newConns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/chunked":
			w.Write([]byte("hello "))
			w.(http.Flusher).Flush()
			w.Write([]byte("world"))
		case "/close":
			w.Header().Set("Connection", "close")
			w.Write([]byte("bye"))
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		default:
			w.Write([]byte("hello"))
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			newConns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	tests := []struct {
		path  string
		bytes int64
		conns int64 // connections for 50 sequential requests
		code  int
	}{
		{"/live/master.m3u8", 5, 1, 200},
		{"/chunked", 11, 1, 200},
		{"/close", 3, 50, 200},
		{"/empty", 0, 1, 204},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			newConns.Store(0)
			env, r := newEnv(t, srv.URL, sim.Params{"path": tt.path, "sources": 1}, 1000)
			m := Models()["get-flood"]
			for i := range 50 {
				m.Run(t.Context(), env, sim.Client{ID: int64(i), Intended: time.Now()})
			}
			for _, q := range r.all() {
				if q.err != nil || q.status != tt.code || q.bytes != tt.bytes {
					t.Fatalf("recorded status %d, %d bytes, err %v; want %d, %d bytes", q.status, q.bytes, q.err, tt.code, tt.bytes)
				}
			}
			if n := len(r.all()); n != 50 {
				t.Fatalf("%d requests recorded, want 50", n)
			}
			if got := newConns.Load(); got != tt.conns {
				t.Errorf("%d connections opened, want %d", got, tt.conns)
			}
		})
	}
}

// TestCacheBustDistinct: every request is a URL no cache has seen.
func TestCacheBustDistinct(t *testing.T) {
	for _, mode := range []string{"query", "path", "both"} {
		t.Run(mode, func(t *testing.T) {
			var mu sync.Mutex
			seen := map[string]bool{}
			srv := startTCP(t, func(c net.Conn) {
				serveHTTP1(c, func(r httpRequest) { mu.Lock(); seen[r.target] = true; mu.Unlock() })
			})
			env, r := newEnv(t, srv.url(), sim.Params{"mode": mode, "path": "/live/master.m3u8"}, 1000)
			m := Models()["cache-bust"]
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Go(func() {
					for i := range 250 {
						m.Run(t.Context(), env, sim.Client{ID: int64(w*250 + i), Intended: time.Now()})
					}
				})
			}
			wg.Wait()
			if err := r.firstErr(); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(seen) != 1000 {
				t.Fatalf("%d distinct URLs for 1000 requests", len(seen))
			}
			for u := range seen {
				if !strings.HasPrefix(u, "/live/master.m3u8") {
					t.Fatalf("URL %q lost the path", u)
				}
				break
			}
		})
	}
}

// TestLoginAndSearch: the API floods send what the synthetic origin takes.
func TestLoginAndSearch(t *testing.T) {
	var bad atomic.Int64
	var users sync.Map
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/login":
			var c struct{ Username, Password string }
			dec := json.NewDecoder(r.Body)
			dec.DisallowUnknownFields()
			if r.Method != http.MethodPost || dec.Decode(&c) != nil || c.Username == "" || c.Password == "" {
				bad.Add(1)
			}
			users.Store(c.Username+c.Password, true)
		case "/api/search":
			if r.URL.Query().Get("q") == "" {
				bad.Add(1)
			}
		default:
			bad.Add(1)
		}
	}))
	defer srv.Close()
	for _, tt := range []struct {
		name string
		p    sim.Params
	}{
		{"login-flood", nil},
		{"search-flood", nil},
		{"login-flood", sim.Params{"path": "/api/search?q="}},
	} {
		name := tt.name
		env, r := newEnv(t, srv.URL, tt.p, 100)
		m := Models()[name]
		for i := range 100 {
			m.Run(t.Context(), env, sim.Client{ID: int64(i), Intended: time.Now()})
		}
		if err := r.firstErr(); err != nil || r.n.Load() != 100 {
			t.Fatalf("%s: %d recorded, first error %v", name, r.n.Load(), err)
		}
	}
	if bad.Load() != 0 {
		t.Fatalf("%d requests the origin would refuse", bad.Load())
	}
	n := 0
	users.Range(func(any, any) bool { n++; return true })
	if n != 100 {
		t.Errorf("%d distinct credentials in 100 logins", n)
	}
}

// TestFloodCancel: a request to a server that never answers ends with ctx.
func TestFloodCancel(t *testing.T) {
	srv := startTCP(t, func(c net.Conn) { io.Copy(io.Discard, c) }) // reads, never answers
	env, r := newEnv(t, srv.url(), nil, 10)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	Models()["get-flood"].Run(ctx, env, sim.Client{Intended: time.Now()})
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Run took %s after ctx ended", d)
	}
	if err := r.firstErr(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("recorded %v, want the context's error", err)
	}
	srv.close()
}

// TestFloodSources: clients, each with its own address as the runner
// gives them, fold onto `sources` of those addresses; sources 0 keeps
// every client's own.
func TestFloodSources(t *testing.T) {
	for _, tt := range []struct{ sources, want int }{{8, 8}, {0, 40}} {
		var mu sync.Mutex
		ips := map[string]int{}
		srv := startTCP(t, func(c net.Conn) {
			serveHTTP1(c, func(r httpRequest) { mu.Lock(); ips[r.remote]++; mu.Unlock() })
		})
		env, r := newEnv(t, srv.url(), sim.Params{"sources": tt.sources, "conns": 2}, 100)
		m := Models()["get-flood"]
		given := map[string]bool{}
		for i := range 40 {
			given[source(i).String()] = true
			m.Run(t.Context(), env, sim.Client{ID: int64(i), Source: source(i), Intended: time.Now()})
		}
		if err := r.firstErr(); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		if len(ips) != tt.want {
			t.Errorf("sources %d: requests came from %d addresses, want %d", tt.sources, len(ips), tt.want)
		}
		for ip := range ips {
			if !given[ip] {
				t.Errorf("sources %d: a request came from %s, no client's address", tt.sources, ip)
			}
		}
		mu.Unlock()
		eventually(t, 2*time.Second, "idle connections closed after linger", func() bool { return srv.open.Load() == 0 })
	}
}

// TestFloodTLS: https:// targets are spoken to over TLS when insecure.
func TestFloodTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hello")) }))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	defer srv.Close()
	env, r := newEnv(t, srv.URL, sim.Params{"insecure": true}, 10)
	for range 3 {
		Models()["get-flood"].Run(t.Context(), env, sim.Client{Intended: time.Now()})
	}
	for _, q := range r.all() {
		if q.err != nil || q.status != 200 || q.bytes != 5 {
			t.Fatalf("recorded %d, %d bytes, %v", q.status, q.bytes, q.err)
		}
	}
	env, r = newEnv(t, srv.URL, nil, 10) // verification on: the test certificate is refused
	Models()["get-flood"].Run(t.Context(), env, sim.Client{Intended: time.Now()})
	if err := r.firstErr(); err == nil || !strings.Contains(err.Error(), "tls") {
		t.Fatalf("recorded %v, want a TLS verification error", err)
	}
}
