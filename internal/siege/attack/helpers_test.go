package attack

import (
	"bufio"
	"context"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/rempart/rempart/internal/siege/sim"
)

func TestMain(m *testing.M) {
	floodLinger = 20 * time.Millisecond
	goleak.VerifyTestMain(m)
}

// rec is a Recorder that keeps what the tests look at.
type rec struct {
	mu   sync.Mutex // guards reqs
	reqs []recReq
	keep bool // keep every request (tests); benchmarks only count

	n     atomic.Int64
	errs  atomic.Int64
	conns atomic.Int64
}

type recReq struct {
	status  int
	bytes   int64
	latency time.Duration
	err     error
}

func (r *rec) Request(_ int, kind sim.Kind, _ time.Time, lat time.Duration, status int, n int64, err error) {
	r.n.Add(1)
	if err != nil {
		r.errs.Add(1)
	}
	if r.keep {
		r.mu.Lock()
		r.reqs = append(r.reqs, recReq{status, n, lat, err})
		r.mu.Unlock()
	}
}
func (r *rec) State(int, sim.State, sim.State) {}
func (r *rec) Viewer(int, sim.ViewerSummary)   {}
func (r *rec) Conn(_ int, delta int)           { r.conns.Add(int64(delta)) }
func (r *rec) all() []recReq {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recReq(nil), r.reqs...)
}
func (r *rec) firstErr() error {
	for _, q := range r.all() {
		if q.err != nil {
			return q.err
		}
	}
	return nil
}

// newEnv is a run against base with one population of params p.
func newEnv(t testing.TB, base string, p sim.Params, budget int64) (*sim.Env, *rec) {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	r := &rec{keep: true}
	addr := u.Host
	return &sim.Env{
		Target: u,
		Params: []sim.Params{p},
		Now:    time.Now,
		Dial: func(ctx context.Context, src netip.Addr) (net.Conn, error) {
			d := net.Dialer{Timeout: 2 * time.Second}
			if src.IsValid() {
				d.LocalAddr = &net.TCPAddr{IP: src.AsSlice()}
			}
			return d.DialContext(ctx, "tcp", addr)
		},
		Budget: sim.NewBudget(budget),
		Rec:    r,
	}, r
}

// source returns the i-th distinct loopback source address.
func source(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{127, byte(1 + i/62500), byte(i / 250 % 250), byte(i%250 + 1)})
}

// tcpServer is a loopback listener that hands each connection to handle
// and counts the connections it holds open.
type tcpServer struct {
	ln       net.Listener
	wg       sync.WaitGroup
	open     atomic.Int64
	accepted atomic.Int64

	mu    sync.Mutex // guards conns
	conns map[net.Conn]struct{}
}

func startTCP(t testing.TB, handle func(net.Conn)) *tcpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &tcpServer{ln: ln, conns: map[net.Conn]struct{}{}}
	s.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			s.open.Add(1)
			s.mu.Lock()
			s.conns[c] = struct{}{}
			s.mu.Unlock()
			s.wg.Go(func() {
				defer s.open.Add(-1)
				defer c.Close()
				handle(c)
			})
		}
	})
	t.Cleanup(s.close)
	return s
}

func (s *tcpServer) url() string { return "http://" + s.ln.Addr().String() }

func (s *tcpServer) close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// httpRequest is one request as a raw server read it.
type httpRequest struct {
	remote  string
	target  string
	names   []string // header names in order
	ua      string
	partial bool // the connection ended before the blank line
	lines   int  // header lines read
}

// serveHTTP1 reads keep-alive requests (without bodies) from c, hands each
// to seen and answers 200 "ok".
func serveHTTP1(c net.Conn, seen func(httpRequest)) {
	br := bufio.NewReader(c)
	remote, _, _ := net.SplitHostPort(c.RemoteAddr().String())
	for {
		req, err := readRawRequest(br)
		req.remote = remote
		if err != nil {
			if req.lines > 0 && seen != nil {
				req.partial = true
				seen(req)
			}
			return
		}
		if seen != nil {
			seen(req)
		}
		if _, err := c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")); err != nil {
			return
		}
	}
}

func readRawRequest(br *bufio.Reader) (httpRequest, error) {
	var req httpRequest
	line, err := br.ReadString('\n')
	if err != nil {
		return req, err
	}
	req.lines++
	if f := strings.Fields(line); len(f) == 3 {
		req.target = f[1]
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return req, err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return req, nil
		}
		req.lines++
		name, value, _ := strings.Cut(line, ":")
		req.names = append(req.names, name)
		if strings.EqualFold(name, "User-Agent") {
			req.ua = strings.TrimSpace(value)
		}
	}
}

// eventually polls cond for up to d.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// runClients runs n clients of m concurrently and waits for them.
func runClients(ctx context.Context, m sim.Model, env *sim.Env, n int, src func(i int) netip.Addr) {
	var wg sync.WaitGroup
	for i := range n {
		c := sim.Client{ID: int64(i), Intended: time.Now()}
		if src != nil {
			c.Source = src(i)
		}
		wg.Go(func() { m.Run(ctx, env, c) })
	}
	wg.Wait()
}
