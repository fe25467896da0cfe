package guard

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// ConnStats counts what the connection guards did. Plain atomics: the
// metrics adapter reads them, the guards never export anything themselves.
type ConnStats struct {
	Accepted     atomic.Int64 // connections let through
	RefusedPerIP atomic.Int64 // closed at once: the address held PerIP already
	RefusedTotal atomic.Int64 // closed at once: Total connections were open
	Open         atomic.Int64 // connections let through and not yet closed
	SlowReadCut  atomic.Int64 // responses cut by MinRate
	ProxyRefused atomic.Int64 // trusted connections closed for a bad or late PROXY header
	// StreamFloodCut counts connections closed for opening requests (or
	// HTTP/2 streams) faster than any player or page (StreamRate).
	StreamFloodCut atomic.Int64
	// ResetFloodCut counts connections closed for cancelling more HTTP/2
	// streams than any player or page (StreamRate's reset budget).
	ResetFloodCut atomic.Int64
	// AmbiguousFraming counts connections closed with 400 for a request
	// with both Content-Length and Transfer-Encoding (WatchFraming).
	AmbiguousFraming atomic.Int64
	// StreamsReset counts the RST_STREAM frames clients sent (WatchH2).
	StreamsReset atomic.Int64
	// H2 counts the HTTP/2 protocol errors Go's server saw (Apply wires it).
	H2 H2Errors
}

// LimitListener returns ln capped at perIP concurrent connections from one
// client address and total overall (≤ 0: no such cap). Over a cap, Accept
// closes the new connection at once, without writing a byte, counts it and
// goes on accepting: the accept loop never blocks and a flood never queues
// in the kernel's backlog. Wrap it around ProxyListener so that the caps
// see the real client, not the proxy.
//
// The per-address table holds only addresses with open connections (an
// entry goes at zero), so it is bounded by the open connections, which
// total bounds.
func LimitListener(ln net.Listener, perIP, total int, stats *ConnStats) net.Listener {
	if stats == nil {
		stats = new(ConnStats)
	}
	return &limitListener{Listener: ln, perIP: perIP, total: total, stats: stats,
		byIP: make(map[netip.Addr]int)}
}

type limitListener struct {
	net.Listener
	perIP, total int
	stats        *ConnStats

	mu   sync.Mutex // guards byIP and open
	byIP map[netip.Addr]int
	open int
}

// Accept returns the next connection within the caps.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := remoteIP(c)
		if refused := l.admit(ip); refused != nil {
			refused.Add(1)
			closeNow(c)
			continue
		}
		l.stats.Accepted.Add(1)
		l.stats.Open.Add(1)
		return &limitedConn{Conn: c, l: l, ip: ip}, nil
	}
}

// admit takes a slot for ip, or returns the counter of the cap it hit.
func (l *limitListener) admit(ip netip.Addr) *atomic.Int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.total > 0 && l.open >= l.total {
		return &l.stats.RefusedTotal
	}
	if l.perIP > 0 && l.byIP[ip] >= l.perIP {
		return &l.stats.RefusedPerIP
	}
	l.open++
	l.byIP[ip]++
	return nil
}

func (l *limitListener) release(ip netip.Addr) {
	l.mu.Lock()
	l.open--
	if n := l.byIP[ip] - 1; n > 0 {
		l.byIP[ip] = n
	} else {
		delete(l.byIP, ip)
	}
	l.mu.Unlock()
	l.stats.Open.Add(-1)
}

// tracked returns the addresses with open connections, for tests.
func (l *limitListener) tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.byIP)
}

// closeNow closes a refused connection. SO_LINGER 0 makes the kernel send
// a reset and free the socket at once, instead of keeping it in TIME_WAIT
// for every refused connection of a flood.
func closeNow(c net.Conn) {
	if tc, ok := c.(interface{ SetLinger(int) error }); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// remoteIP is the connection's peer address, unmapped; the zero Addr (one
// shared slot) for non-IP connections.
func remoteIP(c net.Conn) netip.Addr {
	switch a := c.RemoteAddr().(type) {
	case *net.TCPAddr:
		return a.AddrPort().Addr().Unmap()
	case nil:
		return netip.Addr{}
	default:
		ap, _ := netip.ParseAddrPort(a.String())
		return ap.Addr().Unmap()
	}
}

// limitedConn gives its slot back on the first Close.
type limitedConn struct {
	net.Conn
	l      *limitListener
	ip     netip.Addr
	closed atomic.Bool
}

// Close closes the connection and releases its slot, once.
func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	if c.closed.CompareAndSwap(false, true) {
		c.l.release(c.ip)
	}
	return err
}

// CloseWrite half-closes when the connection can: net/http uses it to
// finish a response before closing.
func (c *limitedConn) CloseWrite() error { return closeWrite(c.Conn) }

// ReadFrom keeps the kernel's sendfile/splice path for the connection.
func (c *limitedConn) ReadFrom(r io.Reader) (int64, error) { return readFrom(c.Conn, r) }

// NetConn returns the wrapped connection.
func (c *limitedConn) NetConn() net.Conn { return c.Conn }

func closeWrite(c net.Conn) error {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

func readFrom(c net.Conn, r io.Reader) (int64, error) {
	if rf, ok := c.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	// Hide ReadFrom from io.Copy, which would otherwise call us again.
	return io.Copy(struct{ io.Writer }{c}, r)
}
