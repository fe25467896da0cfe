package playtoken

import (
	"path"
	"strings"
)

// underPath reports whether p, a decoded URL path, is scope or lies under
// it, segment-wise; both are absolute (a scope that is not never matches).
// A path the origin might resolve differently from how it
// reads is never in scope: dot segments or doubled slashes
// ("/live/../admin"), a backslash (a separator to some servers) or a dot
// segment with parameters ("/live/..;/admin", which Java servers take for
// "..").
func underPath(p, scope string) bool {
	if p == "" || p[0] != '/' || strings.IndexByte(p, '\\') >= 0 || !clean(p) || dotParams(p) {
		return false
	}
	if !strings.HasPrefix(p, scope) {
		return false
	}
	return len(p) == len(scope) || strings.HasSuffix(scope, "/") || p[len(scope)] == '/'
}

// clean reports whether p is what path.Clean makes of it, give or take a
// trailing slash.
func clean(p string) bool {
	c := path.Clean(p)
	return c == p || c == strings.TrimSuffix(p, "/")
}

// dotParams reports whether a segment of p is "." or ".." followed by
// ";parameters".
func dotParams(p string) bool {
	if !strings.Contains(p, ".;") {
		return false
	}
	for seg := range strings.SplitSeq(p, "/") {
		if strings.HasPrefix(seg, ".;") || strings.HasPrefix(seg, "..;") {
			return true
		}
	}
	return false
}
