package identity

import (
	"net/http"

	"github.com/rempart/rempart/internal/telemetry"
)

// Stage is the identify stage of the pipeline: it writes who the client is
// into the request record (Client, Prefix, Fingerprint, TLSFingerprint),
// then passes the request on. It never refuses. It does not allocate.
type Stage struct {
	// Resolver finds the client address. If nil, no proxy is trusted and
	// the TCP peer is the client.
	Resolver *Resolver
	// Next is the following stage. Required.
	Next http.Handler
}

var _ http.Handler = (*Stage)(nil)

// ServeHTTP identifies the client, then calls Next.
func (s *Stage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := telemetry.RecordOf(w)
	rec.Client = s.Resolver.Client(r)
	rec.Prefix = PrefixOf(rec.Client)
	rec.Fingerprint = Fingerprint(r)
	rec.TLSFingerprint = TLSFingerprintFrom(r.Context())
	s.Next.ServeHTTP(w, r)
}
