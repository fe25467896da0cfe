package guard

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
)

const (
	testRate   = 64 << 10 // bytes per second
	testWindow = time.Second
	bigBody    = 4 << 20
)

// result is what the handler saw: when it started, and when and how its
// writing ended.
type result struct {
	start, end time.Time
	written    int64
	err        error
}

// bigServer serves a 4 MiB body through MinRate and reports each response.
func bigServer(t *testing.T, stats *ConnStats) (*httptest.Server, <-chan result, <-chan struct{}) {
	t.Helper()
	results := make(chan result, 4)
	closed := make(chan struct{}, 16)
	body := bytes.Repeat([]byte("x"), 32<<10)
	h := MinRate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res := result{start: time.Now()}
		w.Header().Set("Content-Length", fmt.Sprint(bigBody))
		for res.written < bigBody && res.err == nil {
			var n int
			n, res.err = w.Write(body)
			res.written += int64(n)
		}
		res.end = time.Now()
		results <- res
	}), testRate, testWindow, stats)
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			closed <- struct{}{}
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, results, closed
}

// TestMinRateCutsSlowReader reads 1 byte a second through a 4 KiB receive
// buffer: the response must be cut about a window after it stalls.
func TestMinRateCutsSlowReader(t *testing.T) {
	if testing.Short() {
		t.Skip("slow reader test takes seconds (skipped under -short)")
	}
	var stats ConnStats
	srv, results, closed := bigServer(t, &stats)
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	c, err := d.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
	stop := make(chan struct{})
	defer close(stop)
	go func() { // the slow reader
		var b [1]byte
		for {
			if _, err := c.Read(b[:]); err != nil {
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
			}
		}
	}()
	select {
	case res := <-results:
		took := res.end.Sub(res.start)
		t.Logf("cut after %v, %d bytes written", took, res.written)
		if res.err == nil || res.written >= bigBody {
			t.Fatalf("response completed (%d bytes) to a 1 B/s reader", res.written)
		}
		if took > testWindow+3*time.Second {
			t.Fatalf("cut after %v, want about %v", took, testWindow)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("slow reader never cut")
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("connection not closed after the cut")
	}
	if got := stats.SlowReadCut.Load(); got != 1 {
		t.Fatalf("SlowReadCut = %d, want 1", got)
	}
}

func TestMinRateNormalReader(t *testing.T) {
	var stats ConnStats
	srv, results, _ := bigServer(t, &stats)
	for range 2 { // keep-alive: the second response starts from a fresh deadline
		resp, err := srv.Client().Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || n != bigBody {
			t.Fatalf("read %d bytes, %v", n, err)
		}
		if res := <-results; res.err != nil {
			t.Fatalf("handler write error: %v", res.err)
		}
	}
	if got := stats.SlowReadCut.Load(); got != 0 {
		t.Fatalf("SlowReadCut = %d, want 0", got)
	}
}

// TestMinRateHeaderOnlyAfterDeadline checks that a response without a body
// on a kept-alive connection, long after the previous deadline, still goes
// out (the deadline left behind must not cut it).
func TestMinRateHeaderOnlyAfterDeadline(t *testing.T) {
	h := MinRate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/empty" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		io.WriteString(w, "hello")
	}), testRate, 100*time.Millisecond, nil)
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for _, path := range []string{"/", "/empty", "/"} {
		io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		time.Sleep(300 * time.Millisecond) // well past the last deadline
	}
}

// TestMinRateKeepsInterfaces checks Flusher, Hijacker, Unwrap and the
// request record are all still reachable through MinRate.
func TestMinRateKeepsInterfaces(t *testing.T) {
	var rec *telemetry.Record
	var flusher, hijacker, deadline bool
	h := MinRate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec = telemetry.RecordOf(w)
		_, flusher = w.(http.Flusher)
		_, hijacker = w.(http.Hijacker)
		deadline = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Minute)) == nil
		io.WriteString(w, "ok")
		w.(http.Flusher).Flush()
	}), testRate, testWindow, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tw := telemetry.NewWriter(w, time.Now())
		defer tw.Release()
		h.ServeHTTP(tw, r)
		if rec != &tw.Rec || tw.Rec.Bytes != 2 {
			t.Errorf("record not reached through MinRate: bytes %d", tw.Rec.Bytes)
		}
		if _, ok := tw.ResponseWriter.(*minRateWriter); ok {
			t.Error("MinRate left its writer in the telemetry writer")
		}
	}))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !flusher || !hijacker || !deadline {
		t.Fatalf("flusher %v hijacker %v deadline %v", flusher, hijacker, deadline)
	}
}

func TestMinRateOffWithoutDeadlines(t *testing.T) {
	h := MinRate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}), testRate, testWindow, nil)
	w := httptest.NewRecorder() // no deadlines: MinRate passes through
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Body.String() != "ok" {
		t.Fatalf("body %q", w.Body.String())
	}
	next := http.NotFoundHandler()
	if got := MinRate(next, 0, time.Second, nil); fmt.Sprint(got) != fmt.Sprint(next) {
		t.Fatal("MinRate with rate 0 is not next")
	}
}
