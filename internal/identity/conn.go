package identity

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/netip"
	"sync"
)

// connInfo is what the edge learns about a connection before its first
// request: the peer, then (during the TLS handshake) the hello fingerprint.
// The handshake runs on the connection's goroutine before any request is
// read, and HTTP/2 handlers start after it, so the fields are written
// before they are read.
type connInfo struct {
	peer  netip.Addr
	tlsFP uint64
	ja4   string
	pace  pace // the URLs asked this second (the stage's Repeats)
}

type connInfoKey struct{}

func connInfoFrom(ctx context.Context) *connInfo {
	info, _ := ctx.Value(connInfoKey{}).(*connInfo)
	return info
}

// ConnContext is the http.Server ConnContext hook: it records the
// connection's peer (RemoteAddr, which is the PROXY protocol source behind
// guard.ProxyListener) and, for TLS connections, registers the connection
// so that the ClientHello fingerprint computed by the TLSConfig hook lands
// in this context. It allocates once per connection, not per request.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	info := &connInfo{peer: addrOf(c.RemoteAddr())}
	if tc, ok := c.(*tls.Conn); ok {
		hellos.put(tc.NetConn(), info)
	}
	return context.WithValue(ctx, connInfoKey{}, info)
}

// ConnState is the http.Server ConnState hook: it forgets a TLS connection
// that closed (or was hijacked) before its ClientHello was read, so that
// the registry never outlives its connections.
func ConnState(c net.Conn, state http.ConnState) {
	if state != http.StateClosed && state != http.StateHijacked {
		return
	}
	if tc, ok := c.(*tls.Conn); ok {
		hellos.take(tc.NetConn())
	}
}

// TLSFingerprintFrom returns the ClientHello fingerprint of the connection
// that ctx (a request's context) belongs to, or 0 for a plain connection
// or a server without the ConnContext and TLSConfig hooks.
func TLSFingerprintFrom(ctx context.Context) uint64 {
	if info := connInfoFrom(ctx); info != nil {
		return info.tlsFP
	}
	return 0
}

// JA4From returns the JA4-style string of the connection's ClientHello
// (see HelloFingerprint), or "" as TLSFingerprintFrom returns 0. For logs
// and evidence, not for the hot path.
func JA4From(ctx context.Context) string {
	if info := connInfoFrom(ctx); info != nil {
		return info.ja4
	}
	return ""
}

func addrOf(a net.Addr) netip.Addr {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.AddrPort().Addr().Unmap()
	}
	if a == nil {
		return netip.Addr{}
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// maxPendingHellos bounds the registry: connections accepted whose
// ClientHello has not been read yet. The connection caps and the handshake
// timeout keep the real number far lower; past the bound a connection just
// goes without a TLS fingerprint.
const maxPendingHellos = 1 << 18

// hellos holds the connections between accept and ClientHello. It is one
// table for the process: keys are connections, unique across servers.
var hellos = helloRegistry{m: make(map[net.Conn]*connInfo)}

type helloRegistry struct {
	mu sync.Mutex // guards m
	m  map[net.Conn]*connInfo
}

func (h *helloRegistry) put(c net.Conn, info *connInfo) {
	h.mu.Lock()
	if len(h.m) < maxPendingHellos {
		h.m[c] = info
	}
	h.mu.Unlock()
}

// take removes and returns the entry of c, nil if none.
func (h *helloRegistry) take(c net.Conn) *connInfo {
	h.mu.Lock()
	info := h.m[c]
	delete(h.m, c)
	h.mu.Unlock()
	return info
}

func (h *helloRegistry) len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.m)
}

// TLSConfig returns a copy of base (nil: an empty config) whose
// GetConfigForClient also fingerprints the ClientHello for the connection
// registered by ConnContext, then defers to base's own GetConfigForClient
// if it has one. Set it as http.Server.TLSConfig together with the
// ConnContext and ConnState hooks.
func TLSConfig(base *tls.Config) *tls.Config {
	cfg := base.Clone()
	if cfg == nil {
		cfg = &tls.Config{}
	}
	next := cfg.GetConfigForClient
	cfg.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		if info := hellos.take(h.Conn); info != nil {
			info.tlsFP, info.ja4 = HelloFingerprint(h)
		}
		if next != nil {
			return next(h)
		}
		return nil, nil
	}
	return cfg
}
