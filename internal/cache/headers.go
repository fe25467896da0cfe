package cache

import (
	"net"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
)

// hopHeaders are the hop-by-hop headers (RFC 9110 §7.6.1): they describe one
// connection and are never forwarded, in either direction. Proxy-* headers
// and the headers named by Connection are removed too (stripHop).
var hopHeaders = []string{
	"Connection", "Keep-Alive", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
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

// sharedAgent is the User-Agent of a shared fetch, unless the site lists
// User-Agent among its shared headers: the origin sees who asks, and not
// Go's default.
const sharedAgent = "rempart"

// sharedHeader returns the headers of a shared (anonymous) origin request
// built from the client's: only the names in shared (canonical), which are
// part of the cache key, so every requester of the key sent the same ones.
// Everything else a client adds (method or path overrides, keys, variant
// selectors) is dropped: one client's headers must not shape, or spoil,
// the answer every waiter receives.
func sharedHeader(in http.Header, shared []string) http.Header {
	out := make(http.Header, len(shared)+2)
	for _, name := range shared {
		if v := in[name]; len(v) > 0 {
			out[name] = append([]string(nil), v...)
		}
	}
	if len(out["User-Agent"]) == 0 {
		out["User-Agent"] = []string{sharedAgent}
	}
	out["Via"] = []string{viaValue}
	return out
}

// ambient are request headers clients send by themselves (browsers,
// players, HTTP libraries, proxies), which the edge answers itself or which
// do not pick whose answer it is. An API request carrying any other header
// a shared fetch would drop (X-Api-Key, X-Session...) may be asking for its
// own answer: it is passed, with its headers, rather than shared or
// stripped of them. Sec-* headers are ambient too.
var ambient = map[string]bool{
	"Accept": true, "Accept-Encoding": true, "Accept-Language": true, "User-Agent": true,
	"Referer": true, "Origin": true, "Cache-Control": true, "Pragma": true, "Dnt": true,
	"Priority": true, "Upgrade-Insecure-Requests": true, "X-Requested-With": true, "Purpose": true,
	"Range": true, "If-Range": true, "If-None-Match": true, "If-Modified-Since": true,
	"If-Match": true, "If-Unmodified-Since": true, "Content-Length": true, "Expect": true,
	"Forwarded": true, "X-Forwarded-For": true, "X-Forwarded-Proto": true,
	"X-Forwarded-Host": true, "X-Real-Ip": true, "Via": true,
	"X-Rempart-Session": true, // the edge's own (admission), not the origin's
}

// personalHeader reports whether h holds a header that is neither shared
// (canonical, sorted), ambient nor hop-by-hop.
func personalHeader(h http.Header, shared []string) bool {
	for k := range h {
		if ambient[k] || isHop(k) || strings.HasPrefix(k, "Sec-") {
			continue
		}
		if _, ok := slices.BinarySearch(shared, k); !ok {
			return true
		}
	}
	return false
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
