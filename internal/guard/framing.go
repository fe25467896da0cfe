package guard

import (
	"bytes"
	"errors"
	"net"
	"strconv"
)

// A request with both Content-Length and Transfer-Encoding is the classic
// request-smuggling shape: two parsers that disagree on which framing wins
// disagree on where the next request starts. RFC 9112 §6.1 lets a server
// reject it, and says it MUST close the connection after answering. Go's
// server serves it by Transfer-Encoding, deletes Content-Length from the
// header (so no handler can tell) and keeps the connection open. The
// framing watcher below reads each HTTP/1 request's header block off the
// connection before Go's server does, and refuses the request there.

// ErrAmbiguousFraming is what reads of a connection return once its client
// sent a request with both Content-Length and Transfer-Encoding. Go's
// server answers such a read error with 400 and closes the connection.
var ErrAmbiguousFraming = errors.New("guard: request has both Content-Length and Transfer-Encoding (RFC 9112 §6.1)")

// FramingListener returns ln with every connection under WatchFraming.
// Use it on cleartext listeners only (over TLS it would read ciphertext):
// wrap it around ProxyListener and LimitListener, and inside H2Listener.
func FramingListener(ln net.Listener, stats *ConnStats) net.Listener {
	if stats == nil {
		stats = new(ConnStats)
	}
	return &framingListener{Listener: ln, stats: stats}
}

type framingListener struct {
	net.Listener
	stats *ConnStats
}

// Accept returns the next connection, watched.
func (l *framingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return WatchFraming(c, l.stats), nil
}

// WatchFraming wraps c so that the HTTP/1 requests its client sends are
// followed request by request (header block, then the body by its
// Content-Length or its chunks). The header block of a request with both
// Content-Length and Transfer-Encoding is handed on without its last line
// feed, and the next read fails with ErrAmbiguousFraming: Go's server then
// answers 400 and closes the connection, and the request never reaches a
// handler. It is counted in stats.AmbiguousFraming (stats may be nil).
//
// A connection that opens with the HTTP/2 preface, or whose framing the
// watcher cannot follow (a request Go's server refuses on its own, such as
// a bad Content-Length or an unsupported Transfer-Encoding, which close
// the connection too), is passed through unwatched from there on. The
// watcher keeps under 300 bytes per connection and copies nothing.
func WatchFraming(c net.Conn, stats *ConnStats) net.Conn {
	if stats == nil {
		stats = new(ConnStats)
	}
	return &framingConn{Conn: c, stats: stats, f: framer{state: stRequestLine}}
}

type framingConn struct {
	net.Conn
	stats *ConnStats
	// Read runs on one goroutine at a time (Go's server serializes its
	// reads of a connection), so f and err need no lock.
	f   framer
	err error // ErrAmbiguousFraming once refused
}

// Read reads from the connection, watching the requests it carries.
func (c *framingConn) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.Conn.Read(p)
	if n == 0 || c.f.state == stPass {
		return n, err
	}
	if cut, bad := c.f.scan(p[:n]); bad {
		c.err = ErrAmbiguousFraming
		c.stats.AmbiguousFraming.Add(1)
		if cut > 0 {
			return cut, nil
		}
		return 0, c.err
	}
	return n, err
}

// Scanner states: the lines of a header block, the bytes of a body or a
// chunk, the lines around chunks, or nothing more to watch.
const (
	stRequestLine = iota
	stHeader
	stBody      // left bytes of a Content-Length body
	stChunkSize // a chunk-size line
	stChunkData // left bytes of a chunk
	stChunkEnd  // the CRLF after a chunk's data
	stTrailer   // trailer lines after the last chunk
	stPass      // not followed: bytes pass unseen
)

// Bounds of what the scanner keeps and accepts.
const (
	lineKeep     = 256 // bytes kept of a line's start
	tailKeep     = 10  // bytes kept of a line's end (" HTTP/1.0\r")
	maxChunkHexs = 16  // as Go's chunked reader: larger sizes are refused
)

// framer follows HTTP/1 framing over the bytes of one connection.
type framer struct {
	state int
	left  int64 // bytes of the body or chunk still to skip

	line  [lineKeep]byte // the current line's start
	nline int
	long  bool // the current line is longer than lineKeep
	tail  [tailKeep]byte
	ntail int

	// The request whose header block is being read.
	http10      bool
	nCL, nTE    int
	length      int64 // Content-Length, -1 when unreadable
	chunkedOnly bool  // the one Transfer-Encoding is "chunked"
}

// scan follows p. When a header block with both framings ends in p, bad is
// true and cut is the offset of its last line feed.
func (f *framer) scan(p []byte) (cut int, bad bool) {
	for i := 0; i < len(p) && f.state != stPass; {
		if f.state == stBody || f.state == stChunkData {
			skip := min(int64(len(p)-i), f.left)
			i += int(skip)
			if f.left -= skip; f.left == 0 {
				f.state = next(f.state)
			}
			continue
		}
		j := bytes.IndexByte(p[i:], '\n')
		if j < 0 {
			f.keep(p[i:])
			return 0, false
		}
		f.keep(p[i : i+j])
		if f.endLine() {
			return i + j, true
		}
		i += j + 1
	}
	return 0, false
}

// next is the state after a body or a chunk's data.
func next(state int) int {
	if state == stBody {
		return stRequestLine
	}
	return stChunkEnd
}

// keep records b, a piece of the current line.
func (f *framer) keep(b []byte) {
	n := copy(f.line[f.nline:], b)
	f.nline += n
	f.long = f.long || n < len(b)
	if len(b) >= tailKeep {
		f.ntail = copy(f.tail[:], b[len(b)-tailKeep:])
		return
	}
	keep := min(f.ntail, tailKeep-len(b))
	copy(f.tail[:], f.tail[f.ntail-keep:f.ntail])
	f.ntail = keep + copy(f.tail[keep:], b)
}

// endLine acts on the line just ended and starts the next; it reports a
// header block with both framings.
func (f *framer) endLine() bool {
	line, tail := trimCR(f.line[:f.nline]), trimCR(f.tail[:f.ntail])
	long := f.long
	f.nline, f.ntail, f.long = 0, 0, false
	switch f.state {
	case stRequestLine:
		f.requestLine(line, tail)
	case stHeader:
		if len(line) == 0 {
			return f.endHeader()
		}
		f.header(line, long)
	case stChunkSize:
		f.chunkSize(line, long)
	case stChunkEnd:
		f.state = stChunkSize
	case stTrailer:
		if len(line) == 0 {
			f.state = stRequestLine
		}
	}
	return false
}

// trimCR drops the carriage return that ends a CRLF line.
func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}

// requestLine starts a request, or stops watching at the HTTP/2 preface or
// a line that is no HTTP/1 request (Go's server refuses it).
func (f *framer) requestLine(line, tail []byte) {
	switch {
	case len(line) == 0: // a stray CRLF between requests
		return
	case bytes.HasPrefix(line, []byte("PRI * HTTP/2.0")),
		len(tail) < len(" HTTP/1.0") || !bytes.HasPrefix(tail[len(tail)-len(" HTTP/1.0"):], []byte(" HTTP/1.")):
		f.state = stPass
		return
	}
	f.http10 = bytes.HasSuffix(tail, []byte(" HTTP/1.0"))
	f.nCL, f.nTE, f.length, f.chunkedOnly = 0, 0, 0, false
	f.state = stHeader
}

// header notes a Content-Length or Transfer-Encoding line.
func (f *framer) header(line []byte, long bool) {
	name, value, ok := bytes.Cut(line, []byte(":"))
	if !ok || (len(name) != len("Content-Length") && len(name) != len("Transfer-Encoding")) {
		return // most headers: no need to compare names
	}
	value = bytes.Trim(value, " \t")
	switch {
	case bytes.EqualFold(name, []byte("Content-Length")):
		f.nCL++
		n, err := strconv.ParseInt(string(value), 10, 64)
		if err != nil || n < 0 || long || (f.nCL > 1 && n != f.length) {
			n = -1
		}
		f.length = n
	case bytes.EqualFold(name, []byte("Transfer-Encoding")):
		f.nTE++
		f.chunkedOnly = f.nTE == 1 && !long && bytes.EqualFold(value, []byte("chunked"))
	}
}

// endHeader reports a request with both framings, or picks how to skip the
// body. Go's server ignores Transfer-Encoding in HTTP/1.0, and refuses
// (and closes) what is not followed here.
func (f *framer) endHeader() bool {
	switch {
	case f.nCL > 0 && f.nTE > 0:
		return true
	case f.nTE > 0 && !f.http10:
		f.state = stChunkSize
		if !f.chunkedOnly {
			f.state = stPass
		}
	case f.length < 0:
		f.state = stPass
	case f.length > 0:
		f.state, f.left = stBody, f.length
	default:
		f.state = stRequestLine
	}
	return false
}

// chunkSize reads a chunk-size line, as Go's chunked reader does: size in
// hex, then optional whitespace and extensions.
func (f *framer) chunkSize(line []byte, long bool) {
	size, _, hasExt := bytes.Cut(line, []byte(";"))
	size = bytes.TrimRight(size, " \t")
	n, err := strconv.ParseUint(string(size), 16, 64)
	switch {
	case err != nil, len(size) > maxChunkHexs, long && !hasExt, n > 1<<62:
		f.state = stPass
	case n == 0:
		f.state = stTrailer
	default:
		f.state, f.left = stChunkData, int64(n)
	}
}
