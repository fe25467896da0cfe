package attack

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/siege/sim"
)

// TestSlowlorisHolds: N connections stay open with a request header that
// keeps growing and never ends; all close when the run ends.
func TestSlowlorisHolds(t *testing.T) {
	const n = 20
	var mu sync.Mutex
	lines := map[string]int{} // per connection: header lines so far
	var complete atomic.Int64
	srv := startTCP(t, func(c net.Conn) {
		buf := make([]byte, 4096)
		var got []byte
		for {
			k, err := c.Read(buf)
			got = append(got, buf[:k]...)
			mu.Lock()
			lines[c.RemoteAddr().String()] = bytes.Count(got, []byte("\r\n"))
			mu.Unlock()
			if bytes.Contains(got, []byte("\r\n\r\n")) {
				complete.Add(1)
			}
			if err != nil {
				return
			}
		}
	})
	env, r := newEnv(t, srv.url(), sim.Params{"interval": "30ms"}, 1000)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		runClients(ctx, Models()["slowloris"], env, n, source)
	}()
	eventually(t, 5*time.Second, "N connections with 5+ header lines", func() bool {
		mu.Lock()
		defer mu.Unlock()
		k := 0
		for _, l := range lines {
			if l >= 5 {
				k++
			}
		}
		return k == n && srv.open.Load() == n
	})
	if got := r.conns.Load(); got != n {
		t.Errorf("recorder holds %d connections, want %d", got, n)
	}
	if complete.Load() != 0 {
		t.Fatalf("%d requests completed", complete.Load())
	}
	cancel()
	<-done
	eventually(t, 2*time.Second, "server sees the connections closed", func() bool { return srv.open.Load() == 0 })
	if r.conns.Load() != 0 || srv.accepted.Load() != n {
		t.Fatalf("after the run: %d held, %d accepted", r.conns.Load(), srv.accepted.Load())
	}
	if err := r.firstErr(); err != nil {
		t.Fatalf("a connection held to the end recorded %v", err)
	}
}

// TestSlowlorisServerCloses: a server that times the header out is recorded.
func TestSlowlorisServerCloses(t *testing.T) {
	srv := startTCP(t, func(c net.Conn) {
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		io.Copy(io.Discard, c)
		c.Write([]byte("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n"))
	})
	env, r := newEnv(t, srv.url(), sim.Params{"interval": "20ms", "reconnects": 2, "backoff": "10ms"}, 1000)
	Models()["slowloris"].Run(t.Context(), env, sim.Client{Intended: time.Now()})
	reqs := r.all()
	if len(reqs) != 3 || srv.accepted.Load() != 3 {
		t.Fatalf("%d recorded, %d accepted; want 3 (1 + 2 reconnects)", len(reqs), srv.accepted.Load())
	}
	for _, q := range reqs {
		if !errors.Is(q.err, ErrServerClosed) || q.status != 408 {
			t.Fatalf("recorded status %d, %v; want 408 wrapping ErrServerClosed", q.status, q.err)
		}
	}
	t.Log(reqs[0].err)
}

// TestConnFloodHolds: idle connections are held, then released on cancel.
func TestConnFloodHolds(t *testing.T) {
	srv := startTCP(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	env, r := newEnv(t, srv.url(), sim.Params{"conns": 3}, 1000)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		runClients(ctx, Models()["conn-flood"], env, 10, source)
	}()
	eventually(t, 5*time.Second, "30 connections open", func() bool { return srv.open.Load() == 30 && r.conns.Load() == 30 })
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("conn-flood did not return after cancel")
	}
	eventually(t, 2*time.Second, "connections released", func() bool { return srv.open.Load() == 0 })
	if r.conns.Load() != 0 || r.errs.Load() != 0 {
		t.Fatalf("after the run: %d held, %d errors", r.conns.Load(), r.errs.Load())
	}
}

// TestSlowReadHolds: the server stays stuck sending a large object until
// the run ends.
func TestSlowReadHolds(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 32<<20)
	var active, served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		active.Add(1)
		defer active.Add(-1)
		w.Write(body)
		served.Add(1)
	}))
	defer srv.Close()
	env, r := newEnv(t, srv.URL, sim.Params{"path": "/big", "interval": "10ms", "chunk": 4}, 1000)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		runClients(ctx, Models()["slow-read"], env, 5, source)
	}()
	eventually(t, 5*time.Second, "5 handlers stuck writing", func() bool { return active.Load() == 5 && r.conns.Load() == 5 })
	time.Sleep(300 * time.Millisecond)
	if served.Load() != 0 || active.Load() != 5 {
		t.Fatalf("%d objects served, %d handlers active: the read was not slow", served.Load(), active.Load())
	}
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("slow-read did not return after cancel")
	}
	eventually(t, 5*time.Second, "handlers released", func() bool { return active.Load() == 0 })
	// A connection may have read nothing yet: on loopback, shrinking the
	// receive buffer after the handshake makes the kernel drop segments
	// and the sender back off for hundreds of milliseconds.
	read := 0
	for _, q := range r.all() {
		if q.err != nil || (q.bytes > 0 && q.status != 200) {
			t.Fatalf("recorded status %d, %d bytes, %v", q.status, q.bytes, q.err)
		}
		if q.bytes > 0 {
			read++
		}
	}
	if read == 0 {
		t.Fatal("no connection read anything")
	}
}
