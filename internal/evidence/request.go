package evidence

import (
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/rempart/rempart/internal/telemetry"
)

// Bounds on what one entry keeps of a request, so that a client cannot grow
// the log's lines (nor the memory of the queue) with huge requests.
const (
	maxTarget      = 1024 // bytes of path and query
	maxHost        = 256
	maxShort       = 32 // method, proto
	maxHeaders     = 32 // headers kept
	maxHeaderBytes = 4096
	maxHeaderValue = 512
)

// buildEntry copies what the log keeps of a request: r and rec are only
// valid during Observe, so every string is cloned and clipped.
func buildEntry(rec *telemetry.Record, r *http.Request, verdict string, rd *redactor) *Entry {
	prefix := rec.Prefix
	if !prefix.IsValid() {
		prefix = defaultPrefix(rec.Client)
	}
	e := &Entry{
		Time: rec.Start.UTC(), Kind: KindRequest,
		Method: clip(r.Method, maxShort), Host: clip(r.Host, maxHost),
		Target: clip(rd.target(r.URL), maxTarget), Proto: clip(r.Proto, maxShort),
		Site: clip(rec.Site, maxShort*4), Class: rec.Class.String(), Outcome: rec.Outcome.String(),
		Stage: clip(rec.Stage, maxShort), Status: rec.Status, Action: clip(rec.Action, maxShort*4),
		Reason: clip(rec.Reason, maxShort*4), Verdict: clip(verdict, maxShort*4),
	}
	if rec.Client.IsValid() {
		e.Source = rec.Client.String()
	}
	if prefix.IsValid() {
		e.Prefix = prefix.String()
	}
	if rec.Fingerprint != 0 {
		e.Fingerprint = fmt.Sprintf("%016x", rec.Fingerprint)
	}
	if rec.TLSFingerprint != 0 {
		e.TLSFingerprint = fmt.Sprintf("%016x", rec.TLSFingerprint)
	}
	e.Headers, e.HeadersLeft = keepHeaders(r.Header, rd)
	return e
}

// defaultPrefix aggregates a as the limiter does: IPv4 /24, IPv6 /64.
func defaultPrefix(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	bits := 64
	if a.Is4() {
		bits = 24
	}
	p, _ := a.Prefix(bits)
	return p
}

// keepHeaders returns h's headers in name order, bounded in count and
// bytes, secrets redacted by rd, and how many values were left out.
func keepHeaders(h http.Header, rd *redactor) ([]Header, int) {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names)
	var kept []Header
	left, size := 0, 0
	for _, name := range names {
		for _, v := range h[name] {
			v = rd.header(name, v)
			hd := Header{Name: clip(name, 64), Value: clip(v, maxHeaderValue)}
			n := len(hd.Name) + len(hd.Value)
			if len(kept) == maxHeaders || size+n > maxHeaderBytes {
				left++
				continue
			}
			kept = append(kept, hd)
			size += n
		}
	}
	return kept, left
}

// clip returns a copy of s cut to at most n bytes on a rune boundary, with
// invalid UTF-8 replaced, so that the JSON encoding is stable when read back.
func clip(s string, n int) string {
	if len(s) > n {
		i := n
		for i > 0 && i > n-utf8.UTFMax && !utf8.RuneStart(s[i]) {
			i--
		}
		s = s[:i]
	}
	if !utf8.ValidString(s) {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.Clone(s)
}
