package identity

import (
	"net/http"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
)

// Stage is the identify stage of the pipeline: it writes who the client is
// into the request record (Client, Prefix, Fingerprint, TLSFingerprint)
// and how its connection paces its requests (Repeats), then passes the
// request on. It never refuses. It does not allocate.
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
	rec.Repeats = repeats(r, rec)
	s.Next.ServeHTTP(w, r)
}

// repeats counts r on its connection's pace (see pace.go). A connection
// from a trusted proxy carries many clients, whose repeats are not one
// session's: 0 (unknown) then, as without the ConnContext hook.
func repeats(r *http.Request, rec *telemetry.Record) int {
	info := connInfoFrom(r.Context())
	if info == nil || info.peer != rec.Client {
		return 0
	}
	sec := rec.Start.Unix()
	if rec.Start.IsZero() {
		sec = time.Now().Unix()
	}
	return info.pace.count(urlKey(r), sec)
}
