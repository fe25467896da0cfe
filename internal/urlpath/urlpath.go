// Package urlpath normalizes the path of a request once, at the edge's
// door, so that the path every stage judges (routes, rate limits, shed
// rules), the cache keys and the origin receives are one and the same.
//
// Without it, "//api/login", "/./api/login" and "/x/../api/login" are
// three paths that escape a limit on "/api/login" yet reach the same
// handler at the origin; "/%6eorm.ts", "//norm.ts" and "/x/../norm.ts" are
// three cache objects and three origin fetches of one file; "/../x.ts"
// reaches an origin whose base path is "/live" as "/live/../x.ts"
// (issue 11, hole 4).
package urlpath

import (
	"errors"
	"strings"
)

// Errors Normalize returns; callers test them with errors.Is.
var (
	// ErrNotPath: the input does not start with "/".
	ErrNotPath = errors.New("urlpath: not an absolute path")
	// ErrEscapesRoot: a ".." segment climbs above "/" ("/../x.ts").
	ErrEscapesRoot = errors.New("urlpath: path climbs above the root (..)")
	// ErrEncodedSeparator: an encoded slash or backslash (%2F, %5C, or a
	// raw backslash), which an origin may decode into a segment boundary
	// after the edge judged the path without one ("/..%2Fadmin").
	ErrEncodedSeparator = errors.New("urlpath: encoded slash or backslash (%2F, %5C) in path")
	// ErrControl: an encoded control character (%00 to %1F, %7F), NUL
	// included, which no media or API path has and some origins truncate at.
	ErrControl = errors.New("urlpath: encoded control character (%00-%1F, %7F) in path")
	// ErrBadEscape: a "%" not followed by two hex digits.
	ErrBadEscape = errors.New("urlpath: malformed percent-encoding in path")
)

// Normalize returns the normal form of the escaped path p (a URL's
// EscapedPath, starting with "/"):
//
//   - percent-encodings of unreserved characters (A-Z a-z 0-9 - . _ ~) are
//     decoded, the others have their hex in upper case (RFC 3986 §6.2.2);
//     bytes a path may not carry raw are encoded;
//   - runs of slashes become one;
//   - "." and ".." segments are removed (RFC 3986 §5.2.4), decoded ones
//     ("%2e%2E") included; a trailing one leaves a trailing slash.
//
// It refuses a path that climbs above the root (ErrEscapesRoot), holds an
// encoded separator (ErrEncodedSeparator) or control character
// (ErrControl), or a malformed escape (ErrBadEscape). The result is its
// own normal form; a path already normal is returned as is, without
// allocating.
func Normalize(p string) (string, error) {
	if p == "" || p[0] != '/' {
		return "", ErrNotPath
	}
	if isNormal(p) {
		return p, nil
	}
	d, err := decode(p)
	if err != nil {
		return "", err
	}
	return removeDots(d)
}

// isNormal reports whether p is its own normal form: every byte allowed
// raw, every escape upper case and needed, no empty or dot segment.
func isNormal(p string) bool {
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '%':
			if i+2 >= len(p) || !isUpperHex(p[i+1]) || !isUpperHex(p[i+2]) || keepEncoded(unhex(p[i+1])<<4|unhex(p[i+2])) != nil {
				return false
			}
			i += 2
		case c == '/':
			if i+1 < len(p) && (p[i+1] == '/' || isDotSegment(p[i+1:])) {
				return false
			}
		case !rawOK(c):
			return false
		}
	}
	return true
}

// isDotSegment reports whether s starts with a "." or ".." segment.
func isDotSegment(s string) bool {
	if s[0] != '.' {
		return false
	}
	if len(s) > 1 && s[1] == '.' {
		s = s[1:]
	}
	return len(s) == 1 || s[1] == '/'
}

// decode rewrites every escape and byte of p in normal form, refusing
// separators, control characters and malformed escapes.
func decode(p string) (string, error) {
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '%' {
			if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
				return "", ErrBadEscape
			}
			c = unhex(p[i+1])<<4 | unhex(p[i+2])
			i += 2
			if unreserved(c) {
				b.WriteByte(c)
				continue
			}
			if err := keepEncoded(c); err != nil {
				return "", err
			}
			writeEscaped(&b, c)
			continue
		}
		switch {
		case c == '\\':
			return "", ErrEncodedSeparator
		case rawOK(c):
			b.WriteByte(c)
		default:
			if err := keepEncoded(c); err != nil {
				return "", err
			}
			writeEscaped(&b, c)
		}
	}
	return b.String(), nil
}

// keepEncoded checks a byte that stays percent-encoded: nil, or why the
// path is refused. An encoded unreserved byte is not normal either.
func keepEncoded(c byte) error {
	switch {
	case c == '/' || c == '\\':
		return ErrEncodedSeparator
	case c < 0x20 || c == 0x7f:
		return ErrControl
	case unreserved(c):
		return errNeedless
	}
	return nil
}

// errNeedless marks an escape of an unreserved byte; isNormal only tests
// it against nil.
var errNeedless = errors.New("urlpath: needless escape")

// removeDots collapses slashes and removes dot segments from d, a decoded
// path starting with "/".
func removeDots(d string) (string, error) {
	segs := make([]string, 0, strings.Count(d, "/"))
	trailing := false
	for seg := range strings.SplitSeq(d[1:], "/") {
		trailing = seg == "" || seg == "." || seg == ".."
		switch seg {
		case "", ".":
		case "..":
			if len(segs) == 0 {
				return "", ErrEscapesRoot
			}
			segs = segs[:len(segs)-1]
		default:
			segs = append(segs, seg)
		}
	}
	out := "/" + strings.Join(segs, "/")
	if trailing && len(segs) > 0 {
		out += "/"
	}
	return out, nil
}

// rawOK reports whether c may stand unencoded in a normal path: an
// unreserved character, a sub-delimiter, ':', '@' or '/' (RFC 3986 §3.3).
func rawOK(c byte) bool { return rawTable[c] }

// rawTable is rawOK for every byte: the scan of every request's path
// looks each byte up once.
var rawTable = func() (t [256]bool) {
	for c := range 256 {
		t[c] = unreserved(byte(c)) || strings.IndexByte("!$&'()*+,;=:@/", byte(c)) >= 0
	}
	return t
}()

// unreserved reports whether c is ALPHA / DIGIT / "-" / "." / "_" / "~".
func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func isHex(c byte) bool { return isUpperHex(c) || 'a' <= c && c <= 'f' }

func isUpperHex(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// writeEscaped writes c as %XX, hex in upper case.
func writeEscaped(b *strings.Builder, c byte) {
	const hexDigits = "0123456789ABCDEF"
	b.WriteByte('%')
	b.WriteByte(hexDigits[c>>4])
	b.WriteByte(hexDigits[c&15])
}
