package guard

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"

	"golang.org/x/net/http2"
)

// ServeH2TLS makes srv serve HTTP/2 over TLS on connections under WatchH2,
// so that rapid reset is stopped below HTTP on TLS listeners too. net/http
// hands its bundled HTTP/2 server the *tls.Conn itself, which cannot be
// wrapped; golang.org/x/net/http2 (the same server, maintained with Go)
// serves any connection that reports its TLS state, so it serves the
// watched one. Call it after Apply and after srv.TLSConfig is set.
func ServeH2TLS(srv *http.Server, l ResetLimits, stats *ConnStats) error {
	if stats == nil {
		stats = new(ConnStats)
	}
	h2 := &http2.Server{
		MaxConcurrentStreams:      maxConcurrentStreams,
		MaxReadFrameSize:          maxReadFrameSize,
		MaxDecoderHeaderTableSize: 4096,
		MaxEncoderHeaderTableSize: 4096,
		IdleTimeout:               srv.IdleTimeout,
		CountError:                stats.H2.Count,
	}
	// ConfigureServer registers graceful shutdown and "h2" in ALPN; its
	// handler is then replaced by one that watches the connection.
	if err := http2.ConfigureServer(srv, h2); err != nil {
		return fmt.Errorf("configure HTTP/2: %w", err)
	}
	srv.TLSNextProto["h2"] = func(hs *http.Server, c *tls.Conn, h http.Handler) {
		// net/http passes the connection's base context (ConnContext's
		// values) through this unadvertised method, as to its own server.
		var ctx context.Context
		if bc, ok := h.(interface{ BaseContext() context.Context }); ok {
			ctx = bc.BaseContext()
		}
		w := &tlsFrameConn{frameConn: watch(c, l, stats), tls: c}
		h2.ServeConn(w, &http2.ServeConnOpts{Context: ctx, Handler: h, BaseConfig: hs})
	}
	return nil
}

// tlsFrameConn is a watched TLS connection that still reports its TLS
// state (the HTTP/2 server checks the version and cipher, requests carry
// it in r.TLS).
type tlsFrameConn struct {
	*frameConn
	tls *tls.Conn
}

// ConnectionState returns the TLS connection's state.
func (c *tlsFrameConn) ConnectionState() tls.ConnectionState { return c.tls.ConnectionState() }
