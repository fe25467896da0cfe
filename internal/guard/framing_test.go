package guard

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// feed scans in through a fresh framer in pieces of size step (0: whole)
// and returns the verdict, the absolute offset of the cut and the state.
func feed(in string, step int) (bad bool, cut, state int) {
	f := framer{state: stRequestLine}
	if step <= 0 {
		step = len(in)
	}
	for off := 0; off < len(in); off += step {
		end := min(off+step, len(in))
		if c, b := f.scan([]byte(in[off:end])); b {
			return true, off + c, f.state
		}
	}
	return false, 0, f.state
}

const smuggled = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"

func TestFramerVerdicts(t *testing.T) {
	inner := "GET /x HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"
	tests := []struct {
		name  string
		in    string
		bad   bool
		cutAt string // the cut is at the "\n" after the last cutAt
		state int
	}{
		{name: "keep-alive GETs", in: "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n", state: stRequestLine},
		{name: "CL and TE", in: smuggled, bad: true, cutAt: "chunked\r\n\r"},
		{name: "either order, any case, LF only", in: "POST / HTTP/1.1\ntransfer-encoding:  chunked \ncontent-length:3\n\n",
			bad: true, cutAt: "content-length:3\n"},
		{name: "CL and a TE that Go refuses", in: "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: gzip\r\n\r\n",
			bad: true, cutAt: "gzip\r\n\r"},
		{name: "HTTP/1.0 too", in: "POST / HTTP/1.0\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
			bad: true, cutAt: "chunked\r\n\r"},
		{name: "the shape inside a Content-Length body",
			in:    "POST / HTTP/1.1\r\nContent-Length: " + strconv.Itoa(len(inner)) + "\r\n\r\n" + inner + "GET / HTTP/1.1\r\n\r\n",
			state: stRequestLine},
		{name: "the shape inside a chunk",
			in: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + strconv.FormatInt(int64(len(inner)), 16) + ";ext=1\r\n" + inner + "\r\n" +
				"0\r\nX-Trailer: 1\r\n\r\nGET / HTTP/1.1\r\n\r\n",
			state: stRequestLine},
		{name: "a later pipelined request", in: "GET / HTTP/1.1\r\n\r\n" + smuggled, bad: true, cutAt: "chunked\r\n\r"},
		{name: "HTTP/1.0 frames by Content-Length only",
			in:  "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n" + smuggled,
			bad: true, cutAt: "chunked\r\n\r"},
		{name: "a long request line", in: "GET /" + strings.Repeat("a", 3000) + " HTTP/1.1\r\n\r\n" + smuggled,
			bad: true, cutAt: "chunked\r\n\r"},
		{name: "HTTP/2 preface", in: clientPreface + smuggled, state: stPass},
		{name: "a bad Content-Length", in: "POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n" + smuggled, state: stPass},
		{name: "two Content-Lengths that differ", in: "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", state: stPass},
		{name: "Transfer-Encoding gzip alone", in: "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", state: stPass},
		{name: "not HTTP/1", in: "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n" + smuggled, state: stPass},
		{name: "a folded line is no header", in: "GET / HTTP/1.1\r\nX-A: 1\r\n Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
			state: stRequestLine},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, step := range []int{0, 1, 2, 7, 100} {
				bad, cut, state := feed(tt.in, step)
				if bad != tt.bad {
					t.Fatalf("step %d: bad = %v, want %v", step, bad, tt.bad)
				}
				if !bad && state != tt.state {
					t.Fatalf("step %d: state %d, want %d", step, state, tt.state)
				}
				if want := strings.LastIndex(tt.in, tt.cutAt) + len(tt.cutAt); bad && cut != want {
					t.Fatalf("step %d: cut at %d (%q), want %d", step, cut, tt.in[:cut], want)
				}
			}
		})
	}
}

// FuzzFramer: whatever a client sends, in whatever pieces, the framer never
// panics, gives the same verdict and cut however the bytes are split, and
// cuts inside what it was given.
func FuzzFramer(f *testing.F) {
	f.Add(smuggled, 3)
	f.Add("GET / HTTP/1.1\r\n\r\n"+smuggled, 1)
	f.Add("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 4)
	f.Add(clientPreface, 2)
	f.Fuzz(func(t *testing.T, in string, step int) {
		step = 1 + abs(step)%64
		bad, cut, _ := feed(in, 0)
		bad2, cut2, _ := feed(in, step)
		if bad != bad2 || cut != cut2 {
			t.Fatalf("whole: %v at %d; in pieces of %d: %v at %d", bad, cut, step, bad2, cut2)
		}
		if bad && (cut < 0 || cut >= len(in) || in[cut] != '\n') {
			t.Fatalf("cut at %d, not a line feed of the input", cut)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// framingServer serves ok over a watched loopback listener and counts the
// requests that reach the handler.
func framingServer(t *testing.T) (addr string, handled *atomic.Int64, stats *ConnStats) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stats, handled = new(ConnStats), new(atomic.Int64)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handled.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "ok")
	})}
	go srv.Serve(FramingListener(ln, stats))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), handled, stats
}

// exchange writes req on a fresh connection and reads n responses; closed
// reports whether the server closed the connection after them.
func exchange(t *testing.T, addr, req string, n int) (codes []int, closed bool) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	go io.WriteString(c, req)
	br := bufio.NewReader(c)
	for range n {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("read response %d: %v", len(codes)+1, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
	}
	return codes, serverClosed(c, br)
}

// serverClosed reports whether the server closed c: nothing more to read
// (whatever br buffered included) and no wait for more.
func serverClosed(c net.Conn, br *bufio.Reader) bool {
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	_, err := br.ReadByte()
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// TestFramingOverSocket: over a real socket, a request with both framings
// gets 400, the connection is closed after it and no handler sees it,
// while keep-alive requests framed either way are served as before.
func TestFramingOverSocket(t *testing.T) {
	addr, handled, stats := framingServer(t)
	codes, closed := exchange(t, addr, smuggled+"GET /next HTTP/1.1\r\nHost: x\r\n\r\n", 1)
	if codes[0] != http.StatusBadRequest || !closed {
		t.Fatalf("CL+TE: status %d, closed %v; want 400 and closed", codes[0], closed)
	}
	if handled.Load() != 0 || stats.AmbiguousFraming.Load() != 1 {
		t.Fatalf("handled %d, counted %d; want 0 and 1", handled.Load(), stats.AmbiguousFraming.Load())
	}
	good := "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" +
		"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" +
		"GET /c HTTP/1.1\r\nHost: x\r\n\r\n"
	codes, closed = exchange(t, addr, good, 3)
	if fmt.Sprint(codes) != "[200 200 200]" || closed {
		t.Fatalf("keep-alive requests: %v, closed %v; want three 200s on an open connection", codes, closed)
	}
}

// BenchmarkFramer measures what watching the framing costs per request: a
// player's keep-alive GET with a browser's header set.
func BenchmarkFramer(b *testing.B) {
	req := []byte("GET /live/720p/seg-1042.ts HTTP/1.1\r\nHost: tv.example\r\n" +
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36\r\n" +
		"Accept: */*\r\nAccept-Language: fr-FR,fr;q=0.9\r\nAccept-Encoding: gzip, deflate, br\r\n" +
		"Origin: https://tv.example\r\nReferer: https://tv.example/\r\nConnection: keep-alive\r\n\r\n")
	f := framer{state: stRequestLine}
	b.SetBytes(int64(len(req)))
	b.ReportAllocs()
	for b.Loop() {
		if _, bad := f.scan(req); bad || f.state != stRequestLine {
			b.Fatal("framing lost")
		}
	}
}
