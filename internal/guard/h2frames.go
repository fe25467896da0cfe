package guard

import (
	"errors"
	"io"
	"net"
	"time"
)

// Rapid reset (CVE-2023-44487): a client opens a stream and cancels it at
// once, thousands of times a second on one connection. Go's server decodes
// every HEADERS frame and starts a handler for it before the RST_STREAM
// behind it is read, so a budget kept by handlers learns of the flood
// hundreds of streams late. frameConn counts the client's RST_STREAM frames
// as they are read off the connection, before Go's server sees them, and
// closes a connection over its budget at the frame that crossed it.

// ResetLimits is the budget of streams one HTTP/2 connection may cancel
// (shield.conns.reset_rate and reset_burst). Rate or Burst ≤ 0: no budget,
// the frames are only counted.
type ResetLimits struct {
	Rate  float64 // cancelled streams per second
	Burst int     // cancelled streams at once before Rate applies
}

// ErrResetFlood is what reads of a connection closed for cancelling more
// HTTP/2 streams than its budget return.
var ErrResetFlood = errors.New("guard: connection closed: it cancelled more HTTP/2 streams than any player")

// clientPreface opens every HTTP/2 connection (RFC 9113 §3.4).
const clientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// HTTP/2 frame layout (RFC 9113 §4.1).
const (
	frameHeaderLen = 9
	frameRSTStream = 0x3
)

// frameConn watches the frames a client sends on one connection.
type frameConn struct {
	net.Conn
	limits ResetLimits
	stats  *ConnStats

	// Read runs on one goroutine at a time (the connection's reader), so
	// the scanner's state needs no lock.
	matched int  // bytes of the preface seen so far
	plain   bool // not HTTP/2 (or preface already consumed): bytes pass unseen
	hdr     [frameHeaderLen]byte
	nhdr    int    // bytes of the current frame header read so far
	left    uint32 // payload bytes of the current frame still to skip
	resets  bucket
	cut     bool
}

// WatchH2 wraps c so that the HTTP/2 frames its client sends are counted
// (RST_STREAM frames in stats.StreamsReset) and c is closed once the
// client cancels more streams than l allows (counted in
// stats.ResetFloodCut). A connection that does not open with the HTTP/2
// preface (HTTP/1 on an h2c listener) is passed through untouched after
// its first bytes. stats may be nil.
func WatchH2(c net.Conn, l ResetLimits, stats *ConnStats) net.Conn { return watch(c, l, stats) }

func watch(c net.Conn, l ResetLimits, stats *ConnStats) *frameConn {
	if stats == nil {
		stats = new(ConnStats)
	}
	return &frameConn{Conn: c, limits: l, stats: stats}
}

// Read reads from the connection and scans what it read.
func (c *frameConn) Read(p []byte) (int, error) {
	if c.cut {
		return 0, ErrResetFlood
	}
	n, err := c.Conn.Read(p)
	if n > 0 && !c.scan(p[:n]) {
		c.cut = true
		c.stats.ResetFloodCut.Add(1)
		_ = c.Conn.Close()
		return 0, ErrResetFlood
	}
	return n, err
}

// scan follows the preface, then the frames in b; false when the client
// has just gone over its reset budget.
func (c *frameConn) scan(b []byte) bool {
	if c.plain {
		return true
	}
	for c.matched < len(clientPreface) {
		if len(b) == 0 {
			return true
		}
		if b[0] != clientPreface[c.matched] {
			c.plain = true
			return true
		}
		c.matched++
		b = b[1:]
	}
	for len(b) > 0 {
		if c.left > 0 {
			skip := min(uint32(len(b)), c.left)
			c.left -= skip
			b = b[skip:]
			continue
		}
		k := copy(c.hdr[c.nhdr:], b)
		c.nhdr += k
		b = b[k:]
		if c.nhdr < frameHeaderLen {
			return true
		}
		c.nhdr = 0
		c.left = uint32(c.hdr[0])<<16 | uint32(c.hdr[1])<<8 | uint32(c.hdr[2])
		if c.hdr[3] == frameRSTStream && !c.reset() {
			return false
		}
	}
	return true
}

// reset charges one cancelled stream; false when over the budget.
func (c *frameConn) reset() bool {
	c.stats.StreamsReset.Add(1)
	if c.limits.Rate <= 0 || c.limits.Burst <= 0 {
		return true
	}
	return c.resets.take(time.Now(), c.limits.Rate, c.limits.Burst)
}

// CloseWrite half-closes when the connection can.
func (c *frameConn) CloseWrite() error { return closeWrite(c.Conn) }

// ReadFrom keeps the kernel's sendfile/splice path for the connection.
func (c *frameConn) ReadFrom(r io.Reader) (int64, error) { return readFrom(c.Conn, r) }

// NetConn returns the wrapped connection.
func (c *frameConn) NetConn() net.Conn { return c.Conn }

// H2Listener returns ln with every accepted connection under WatchH2: the
// cleartext HTTP/2 (h2c) listener's defence against rapid reset.
func H2Listener(ln net.Listener, l ResetLimits, stats *ConnStats) net.Listener {
	return &h2Listener{Listener: ln, limits: l, stats: stats}
}

type h2Listener struct {
	net.Listener
	limits ResetLimits
	stats  *ConnStats
}

// Accept returns the next connection, watched.
func (l *h2Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return WatchH2(c, l.limits, l.stats), nil
}
