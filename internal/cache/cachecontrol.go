package cache

import (
	"math"
	"net/http"
	"strings"
	"time"
)

// cacheControl is a parsed Cache-Control response header (RFC 9111 §5.2.2,
// RFC 5861). Durations are -1 when the directive is absent.
type cacheControl struct {
	noStore, noCache, private, public bool
	mustRevalidate, proxyRevalidate   bool
	maxAge, sMaxAge                   time.Duration
	staleWhileRevalidate              time.Duration
	staleIfError                      time.Duration
}

// parseCacheControl parses every Cache-Control line of h. Directive names are
// case-insensitive; the first occurrence of a directive wins. An invalid
// max-age or s-maxage counts as 0 (stale at once), as RFC 9111 §4.2.1 asks;
// an invalid stale-* value is ignored.
func parseCacheControl(h http.Header) cacheControl {
	cc := cacheControl{maxAge: -1, sMaxAge: -1, staleWhileRevalidate: -1, staleIfError: -1}
	for _, line := range h["Cache-Control"] {
		for line != "" {
			var name, value string
			name, value, line = nextDirective(line)
			cc.apply(strings.ToLower(name), value)
		}
	}
	return cc
}

// apply records one directive.
func (cc *cacheControl) apply(name, value string) {
	switch name {
	case "no-store":
		cc.noStore = true
	case "no-cache":
		cc.noCache = true
	case "private":
		cc.private = true
	case "public":
		cc.public = true
	case "must-revalidate":
		cc.mustRevalidate = true
	case "proxy-revalidate":
		cc.proxyRevalidate = true
	case "max-age":
		setDelta(&cc.maxAge, value, 0)
	case "s-maxage":
		setDelta(&cc.sMaxAge, value, 0)
	case "stale-while-revalidate":
		setDelta(&cc.staleWhileRevalidate, value, -1)
	case "stale-if-error":
		setDelta(&cc.staleIfError, value, -1)
	}
}

// setDelta parses delta-seconds into *d unless *d is already set; an invalid
// value stores invalid. Values are capped at 2^31-1 seconds (RFC 9111 §1.2.2).
func setDelta(d *time.Duration, value string, invalid time.Duration) {
	if *d >= 0 {
		return
	}
	*d = invalid
	if value == "" {
		return
	}
	var secs int64
	for i := 0; i < len(value); i++ {
		c := value[i]
		if c < '0' || c > '9' {
			return
		}
		if secs < math.MaxInt32 {
			secs = secs*10 + int64(c-'0')
		}
	}
	*d = time.Duration(min(secs, math.MaxInt32)) * time.Second
}

// nextDirective splits the first directive off a Cache-Control line: its
// name, its value (unquoted) and the rest of the line. Commas inside a
// quoted value (private="Set-Cookie, X") do not split.
func nextDirective(s string) (name, value, rest string) {
	s = strings.TrimLeft(s, " \t,")
	i := strings.IndexAny(s, "=,")
	if i < 0 || s[i] == ',' {
		if i < 0 {
			return strings.TrimSpace(s), "", ""
		}
		return strings.TrimSpace(s[:i]), "", s[i+1:]
	}
	name, s = strings.TrimSpace(s[:i]), strings.TrimLeft(s[i+1:], " \t")
	if strings.HasPrefix(s, `"`) {
		end := strings.IndexByte(s[1:], '"')
		if end < 0 {
			return name, s[1:], ""
		}
		value, s = s[1:1+end], s[2+end:]
		_, rest, _ = strings.Cut(s, ",")
		return name, value, rest
	}
	value, rest, _ = strings.Cut(s, ",")
	return name, strings.TrimSpace(value), rest
}
