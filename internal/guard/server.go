package guard

import (
	"net/http"

	"github.com/rempart/rempart/internal/config"
)

// HTTP/2 limits applied to every public listener. Go's server already
// defends against rapid reset and CONTINUATION floods; these bound what one
// connection may hold.
const (
	maxConcurrentStreams = 250
	maxReadFrameSize     = 1 << 16
)

// Apply sets the client-side limits of l on srv: header, read, write and
// idle timeouts, the header size cap and the HTTP/2 stream limits. The
// HTTP/2 errors Go's server reports are counted in stats.H2 (stats may be
// nil).
func Apply(srv *http.Server, l config.Limits, stats *ConnStats) {
	srv.ReadHeaderTimeout = l.ReadHeaderTimeout
	srv.ReadTimeout = l.ReadTimeout
	srv.WriteTimeout = l.WriteTimeout
	srv.IdleTimeout = l.IdleTimeout
	srv.MaxHeaderBytes = l.MaxHeaderBytes
	// "OPTIONS *" reaches Hygiene, which refuses it like any non-path target.
	srv.DisableGeneralOptionsHandler = true
	if srv.HTTP2 == nil {
		srv.HTTP2 = &http.HTTP2Config{}
	}
	srv.HTTP2.MaxConcurrentStreams = maxConcurrentStreams
	srv.HTTP2.MaxReadFrameSize = maxReadFrameSize
	srv.HTTP2.MaxDecoderHeaderTableSize = 4096
	srv.HTTP2.MaxEncoderHeaderTableSize = 4096
	if stats != nil {
		srv.HTTP2.CountError = stats.H2.Count
	}
}
