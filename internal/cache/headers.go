package cache

import (
	"net"
	"net/http"
	"net/textproto"
	"strings"
)

// hopHeaders are the hop-by-hop headers (RFC 9110 §7.6.1): they describe one
// connection and are never forwarded, in either direction. Proxy-* headers
// and the headers named by Connection are removed too (stripHop).
var hopHeaders = []string{
	"Connection", "Keep-Alive", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// sharedDrop are request headers never sent on a shared fetch, whose answer
// goes to every waiter and into the store: credentials (fetches are
// anonymous), client ranges and conditionals (the edge fetches whole objects
// and answers those itself), Accept-Encoding (bodies are stored as the origin
// sends them without it), client cache directives (a client does not steer
// the shield) and the client's forwarding headers.
var sharedDrop = map[string]bool{
	"Authorization": true, "Cookie": true,
	"Range": true, "If-Range": true, "If-None-Match": true, "If-Modified-Since": true,
	"If-Match": true, "If-Unmodified-Since": true,
	"Accept-Encoding": true, "Cache-Control": true, "Pragma": true,
	"X-Forwarded-For": true, "X-Forwarded-Proto": true, "X-Forwarded-Host": true,
	"Forwarded": true, "Content-Length": true, "Via": true,
}

// viaValue is what the edge adds to Via on every origin request.
const viaValue = "1.1 rempart"

// stripHop removes hop-by-hop headers from h, in place.
func stripHop(h http.Header) {
	for _, v := range h["Connection"] {
		for name := range strings.SplitSeq(v, ",") {
			if name = textproto.TrimString(name); name != "" {
				h.Del(name)
			}
		}
	}
	for _, k := range hopHeaders {
		delete(h, k)
	}
	for k := range h {
		if len(k) > 6 && strings.EqualFold(k[:6], "proxy-") {
			delete(h, k)
		}
	}
}

// isHop reports whether the canonical header name is always hop-by-hop.
func isHop(name string) bool {
	for _, k := range hopHeaders {
		if k == name {
			return true
		}
	}
	return strings.HasPrefix(name, "Proxy-")
}

// sharedHeader returns the headers of a shared (anonymous) origin request
// built from the client's.
func sharedHeader(in http.Header) http.Header {
	out := make(http.Header, len(in)+1)
	for k, v := range in {
		if sharedDrop[k] || isHop(k) {
			continue
		}
		out[k] = append([]string(nil), v...)
	}
	for _, v := range in["Connection"] { // what the client's Connection names
		for name := range strings.SplitSeq(v, ",") {
			out.Del(textproto.TrimString(name))
		}
	}
	out["Via"] = []string{viaValue}
	return out
}

// passHeader returns the headers of a pass request: the client's, less
// hop-by-hop headers (and credentials unless keepCreds), with forwarding
// headers added.
func passHeader(r *http.Request, keepCreds bool) http.Header {
	out := r.Header.Clone()
	if out == nil {
		out = make(http.Header)
	}
	stripHop(out)
	if !keepCreds {
		delete(out, "Authorization")
		delete(out, "Cookie")
	}
	if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		if prior := out["X-Forwarded-For"]; len(prior) > 0 {
			ip = strings.Join(prior, ", ") + ", " + ip
		}
		out["X-Forwarded-For"] = []string{ip}
	}
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	out["X-Forwarded-Proto"] = []string{proto}
	out["X-Forwarded-Host"] = []string{r.Host}
	if prior := out["Via"]; len(prior) > 0 {
		out["Via"] = []string{strings.Join(prior, ", ") + ", " + viaValue}
	} else {
		out["Via"] = []string{viaValue}
	}
	return out
}

// copyHeader adds src's values to dst.
func copyHeader(dst, src http.Header) {
	for k, v := range src {
		dst[k] = append(dst[k], v...)
	}
}
