package stream

import (
	"net/url"
	"path"
	"strconv"
	"strings"
)

// resolve returns the path of uri, a playlist entry, relative to the
// playlist at base (a clean absolute path), or "" when uri names no path
// of this site (another scheme, or an unparsable reference). The host of an
// absolute URI is ignored: CDNs rewrite it, the path is what requests name.
func resolve(base, uri string) string {
	if uri == "" {
		return ""
	}
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	if strings.HasPrefix(u.Path, "/") {
		return path.Clean(u.Path)
	}
	if u.Path == "" {
		return ""
	}
	return path.Join(dir(base), u.Path)
}

// dir returns the directory of p, "/" for a name at the root.
func dir(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// successors returns the n names that follow name in a numbered series:
// the last run of digits of its base name incremented, with its width kept
// ("seg_00099.ts" → "seg_00100.ts", "seg_00101.ts"...). It returns nil
// when the base name has no digits.
func successors(name string, n int) []string {
	slash := strings.LastIndexByte(name, '/') + 1
	end := -1
	for i := len(name) - 1; i >= slash; i-- {
		if name[i] >= '0' && name[i] <= '9' {
			end = i + 1
			break
		}
	}
	if end < 0 {
		return nil
	}
	start := end - 1
	for start > slash && name[start-1] >= '0' && name[start-1] <= '9' {
		start--
	}
	digits := name[start:end]
	if len(digits) > 18 { // beyond int64: not a counter worth predicting
		return nil
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return nil
	}
	out := make([]string, 0, n)
	for i := 1; i <= n; i++ {
		s := strconv.FormatInt(v+int64(i), 10)
		if len(s) < len(digits) {
			s = strings.Repeat("0", len(digits)-len(s)) + s
		}
		out = append(out, name[:start]+s+name[end:])
	}
	return out
}
