package guard

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/gaissmai/bart"
)

// PROXY protocol v2 (haproxy.org/download/2.9/doc/proxy-protocol.txt §2.2).
var proxySig = [12]byte{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A}

const (
	proxyFixedLen = 16 // signature, version/command, family, length
	// proxyMaxLen bounds the addresses and TLVs read after the fixed
	// part. The spec allows 65535; real proxies send a few hundred bytes
	// (AWS and Azure TLVs included).
	proxyMaxLen = 4096
	// proxyMaxPending bounds the connections whose header is being read.
	proxyMaxPending = 4096
	// DefaultProxyTimeout is the time a trusted peer has to send its
	// header when ProxyListener is given no timeout.
	DefaultProxyTimeout = 5 * time.Second
)

// ErrProxyHeader is returned for a PROXY header that is not valid v2 or
// that names an address this edge cannot use.
var ErrProxyHeader = errors.New("invalid PROXY protocol v2 header")

// proxyHeader is what a v2 header says about the connection. For the
// LOCAL command (health checks from the proxy itself) and for the UNSPEC
// family, src is zero: the connection's own endpoints stand.
type proxyHeader struct {
	src, dst netip.AddrPort
}

// parseProxyHeader parses a v2 header at the start of b and returns it
// with the header's length in bytes. It accepts PROXY over TCP for IPv4
// and IPv6, PROXY with the UNSPEC family, and LOCAL; TLVs are skipped.
func parseProxyHeader(b []byte) (proxyHeader, int, error) {
	if len(b) < proxyFixedLen || !bytes.Equal(b[:12], proxySig[:]) {
		return proxyHeader{}, 0, fmt.Errorf("%w: no v2 signature", ErrProxyHeader)
	}
	verCmd, fam := b[12], b[13]
	n := proxyFixedLen + int(binary.BigEndian.Uint16(b[14:16]))
	switch {
	case verCmd>>4 != 2:
		return proxyHeader{}, 0, fmt.Errorf("%w: version %d", ErrProxyHeader, verCmd>>4)
	case verCmd&0xf > 1:
		return proxyHeader{}, 0, fmt.Errorf("%w: command %d", ErrProxyHeader, verCmd&0xf)
	case n-proxyFixedLen > proxyMaxLen:
		return proxyHeader{}, 0, fmt.Errorf("%w: length %d over %d", ErrProxyHeader, n-proxyFixedLen, proxyMaxLen)
	case len(b) < n:
		return proxyHeader{}, 0, fmt.Errorf("%w: %d bytes, header says %d", ErrProxyHeader, len(b), n)
	}
	if verCmd&0xf == 0 { // LOCAL: the family and addresses are ignored
		return proxyHeader{}, n, nil
	}
	h, err := parseProxyAddrs(fam, b[proxyFixedLen:n])
	if err != nil {
		return proxyHeader{}, 0, err
	}
	return h, n, nil
}

// parseProxyAddrs reads the address block of a PROXY command.
func parseProxyAddrs(fam byte, b []byte) (proxyHeader, error) {
	var size int
	switch fam {
	case 0x00: // UNSPEC: "the receiver should use the real connection endpoints"
		return proxyHeader{}, nil
	case 0x11: // TCP over IPv4
		size = 4
	case 0x21: // TCP over IPv6
		size = 16
	default:
		return proxyHeader{}, fmt.Errorf("%w: family/transport 0x%02x unsupported", ErrProxyHeader, fam)
	}
	if len(b) < 2*size+4 {
		return proxyHeader{}, fmt.Errorf("%w: %d address bytes for family 0x%02x", ErrProxyHeader, len(b), fam)
	}
	src, _ := netip.AddrFromSlice(b[:size])
	dst, _ := netip.AddrFromSlice(b[size : 2*size])
	sp := binary.BigEndian.Uint16(b[2*size:])
	dp := binary.BigEndian.Uint16(b[2*size+2:])
	return proxyHeader{src: netip.AddrPortFrom(src.Unmap(), sp), dst: netip.AddrPortFrom(dst.Unmap(), dp)}, nil
}

// readProxyHeader reads exactly one header from r, never a byte more: what
// follows belongs to the client's TLS or HTTP.
func readProxyHeader(r io.Reader) (proxyHeader, error) {
	var buf [proxyFixedLen + proxyMaxLen]byte
	if _, err := io.ReadFull(r, buf[:proxyFixedLen]); err != nil {
		return proxyHeader{}, fmt.Errorf("read PROXY header: %w", err)
	}
	if !bytes.Equal(buf[:12], proxySig[:]) {
		return proxyHeader{}, fmt.Errorf("%w: no v2 signature", ErrProxyHeader)
	}
	n := proxyFixedLen + int(binary.BigEndian.Uint16(buf[14:16]))
	if n > len(buf) {
		return proxyHeader{}, fmt.Errorf("%w: length %d over %d", ErrProxyHeader, n-proxyFixedLen, proxyMaxLen)
	}
	if _, err := io.ReadFull(r, buf[proxyFixedLen:n]); err != nil {
		return proxyHeader{}, fmt.Errorf("read PROXY header: %w", err)
	}
	h, _, err := parseProxyHeader(buf[:n])
	return h, err
}

// ProxyListener returns ln reading a PROXY protocol v2 header on every
// connection from a trusted peer (nothing trusted: ln itself). The header
// must arrive within timeout (≤ 0: DefaultProxyTimeout); the connection's
// RemoteAddr and LocalAddr then are the ones the proxy saw, so that the
// connection caps and the identity resolver see the real client. A
// missing, late or malformed header closes the connection; peers that are
// not trusted are passed on untouched, their first bytes are their HTTP or
// TLS. Version 1 (text) headers are refused.
//
// Headers are read off the accept loop, one goroutine per pending
// connection (at most 4096, more are closed at once), so a slow proxy
// never holds up other clients. Close stops them all and waits for them.
// stats (may be nil) counts the connections closed for their header.
func ProxyListener(ln net.Listener, trusted []netip.Prefix, timeout time.Duration, stats *ConnStats) net.Listener {
	if len(trusted) == 0 {
		return ln
	}
	if timeout <= 0 {
		timeout = DefaultProxyTimeout
	}
	if stats == nil {
		stats = new(ConnStats)
	}
	pl := &proxyListener{Listener: ln, trusted: new(bart.Lite), timeout: timeout, stats: stats,
		ready: make(chan acceptResult), done: make(chan struct{}), pending: make(map[net.Conn]struct{})}
	for _, p := range trusted {
		if p.IsValid() {
			pl.trusted.Insert(p.Masked())
		}
	}
	pl.wg.Add(1)
	go pl.acceptLoop()
	return pl
}

type acceptResult struct {
	c   net.Conn
	err error
}

type proxyListener struct {
	net.Listener
	trusted *bart.Lite // read-only after construction
	timeout time.Duration
	stats   *ConnStats
	ready   chan acceptResult // connections ready for Accept
	done    chan struct{}     // closed by Close
	once    sync.Once
	wg      sync.WaitGroup // the accept loop and the header readers

	mu      sync.Mutex // guards pending
	pending map[net.Conn]struct{}
}

// Accept returns the next connection whose header (if any) was read.
func (l *proxyListener) Accept() (net.Conn, error) {
	select {
	case r := <-l.ready:
		return r.c, r.err
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops accepting, cuts the headers being read and waits for the
// goroutines that read them.
func (l *proxyListener) Close() error {
	err := net.ErrClosed
	l.once.Do(func() {
		err = l.Listener.Close()
		close(l.done)
		l.mu.Lock()
		for c := range l.pending {
			c.SetReadDeadline(time.Unix(1, 0))
		}
		l.mu.Unlock()
		l.wg.Wait()
	})
	return err
}

func (l *proxyListener) acceptLoop() {
	defer l.wg.Done()
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			// Hand the error to Accept (http.Server backs off on
			// temporary ones); a closed listener ends the loop.
			if !l.deliver(acceptResult{err: err}) || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if !l.trusted.Contains(remoteIP(c)) {
			if !l.deliver(acceptResult{c: c}) {
				c.Close()
				return
			}
			continue
		}
		l.startHeader(c)
	}
}

// deliver hands r to Accept; false once the listener is closed.
func (l *proxyListener) deliver(r acceptResult) bool {
	select {
	case l.ready <- r:
		return true
	case <-l.done:
		return false
	}
}

// startHeader reads c's header in its own goroutine, or closes c at once
// when too many are pending.
func (l *proxyListener) startHeader(c net.Conn) {
	l.mu.Lock()
	full := len(l.pending) >= proxyMaxPending
	if !full {
		l.pending[c] = struct{}{}
		l.wg.Add(1)
	}
	l.mu.Unlock()
	if full {
		l.stats.ProxyRefused.Add(1)
		closeNow(c)
		return
	}
	go l.readHeader(c)
}

func (l *proxyListener) readHeader(c net.Conn) {
	defer l.wg.Done()
	c.SetReadDeadline(time.Now().Add(l.timeout))
	h, err := readProxyHeader(c)
	l.mu.Lock()
	delete(l.pending, c)
	l.mu.Unlock()
	if err == nil {
		err = c.SetReadDeadline(time.Time{})
	}
	if err != nil {
		l.stats.ProxyRefused.Add(1)
		closeNow(c)
		return
	}
	if !l.deliver(acceptResult{c: newProxyConn(c, h)}) {
		c.Close()
	}
}

// proxyConn is a connection whose endpoints the PROXY header named.
type proxyConn struct {
	net.Conn
	remote, local net.Addr
}

func newProxyConn(c net.Conn, h proxyHeader) net.Conn {
	if !h.src.IsValid() {
		return c // LOCAL or UNSPEC: the real endpoints stand
	}
	return &proxyConn{Conn: c, remote: net.TCPAddrFromAddrPort(h.src), local: net.TCPAddrFromAddrPort(h.dst)}
}

// RemoteAddr is the client's address as the proxy saw it.
func (c *proxyConn) RemoteAddr() net.Addr { return c.remote }

// LocalAddr is the address the client connected to, at the proxy.
func (c *proxyConn) LocalAddr() net.Addr { return c.local }

// ProxyAddr is the address of the proxy itself (the TCP peer).
func (c *proxyConn) ProxyAddr() net.Addr { return c.Conn.RemoteAddr() }

// CloseWrite half-closes when the connection can.
func (c *proxyConn) CloseWrite() error { return closeWrite(c.Conn) }

// ReadFrom keeps the kernel's sendfile/splice path for the connection.
func (c *proxyConn) ReadFrom(r io.Reader) (int64, error) { return readFrom(c.Conn, r) }

// NetConn returns the wrapped connection.
func (c *proxyConn) NetConn() net.Conn { return c.Conn }
