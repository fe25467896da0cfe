package cache

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/rempart/rempart/internal/config"
)

// keySep separates the site name from the target in a key. Site names are
// [a-z0-9_-]+, so the first ':' always ends the site.
const keySep = ":"

// cacheKey returns the store key for r on site under pol, and the origin
// target (escaped path and normalized query) it embeds. The path is the
// escaped path exactly as the origin will see it: guard.Hygiene has put it
// in normal form (urlpath), so spellings of one path are one object, and
// the key never decodes what the origin would not. The values of the
// shared headers (canonical names, sorted) r carries follow, one
// "\nName:value" each: requests that would send different headers to the
// origin never share a flight or an object. The only allocation is the
// key itself; the target is a substring of it.
func cacheKey(site string, r *http.Request, pol *config.Policy, shared []string) (key, target string) {
	path := r.URL.EscapedPath()
	q := normalizeQuery(r.URL.RawQuery, pol)
	end := len(site) + len(keySep) + len(path)
	if q != "" {
		end += 1 + len(q)
	}
	var b strings.Builder
	b.Grow(end + sharedLen(r.Header, shared))
	b.WriteString(site)
	b.WriteString(keySep)
	b.WriteString(path)
	if q != "" {
		b.WriteByte('?')
		b.WriteString(q)
	}
	writeSharedValues(&b, r.Header, shared)
	key = b.String()
	return key, key[len(site)+len(keySep) : end]
}

// sharedLen is the length writeSharedValues writes.
func sharedLen(h http.Header, shared []string) int {
	n := 0
	for _, name := range shared {
		for i, v := range h[name] {
			if i == 0 {
				n += len("\n:") + len(name)
			} else {
				n += len(", ")
			}
			n += len(v)
		}
	}
	return n
}

// writeSharedValues appends "\nName:v1, v2" for each shared header h has.
// Header values hold no line feed (servers refuse them), so the key reads
// back one way only.
func writeSharedValues(b *strings.Builder, h http.Header, shared []string) {
	for _, name := range shared {
		for i, v := range h[name] {
			if i == 0 {
				b.WriteByte('\n')
				b.WriteString(name)
				b.WriteByte(':')
			} else {
				b.WriteString(", ")
			}
			b.WriteString(v)
		}
	}
}

// targetURL returns the URL of a shared origin request: r's path, escaped
// as in the key, and the normalized query. It is built field by field
// rather than parsed, so a path such as "//host/x" can never become an
// authority.
func targetURL(r *http.Request, q string) *url.URL {
	return &url.URL{Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: q}
}

// queryOf returns the query part of a target, "" if none.
func queryOf(target string) string {
	_, q, _ := strings.Cut(target, "?")
	return q
}

type queryPair struct{ name, value string }

// normalizeQuery keeps only the parameters pol allows (all of them with
// KeepAllQuery), sorts them by name then value and re-encodes them
// canonically, so random or reordered query strings map to one key and one
// origin request. Pairs whose escaping is invalid are dropped. The result is
// stable: normalizing it again returns it unchanged.
func normalizeQuery(raw string, pol *config.Policy) string {
	if raw == "" || (!pol.KeepAllQuery && len(pol.QueryKeep) == 0) {
		return ""
	}
	var stack [8]queryPair
	pairs := stack[:0]
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if part == "" {
			continue
		}
		name, value, _ := strings.Cut(part, "=")
		name, err := url.QueryUnescape(name)
		if err != nil || !keepParam(name, pol) {
			continue
		}
		if value, err = url.QueryUnescape(value); err != nil {
			continue
		}
		pairs = append(pairs, queryPair{name, value})
	}
	return encodePairs(pairs)
}

// keepParam reports whether pol keeps the query parameter name.
func keepParam(name string, pol *config.Policy) bool {
	if pol.KeepAllQuery {
		return true
	}
	_, found := slices.BinarySearch(pol.QueryKeep, name)
	return found
}

// encodePairs sorts pairs and writes them as name=value&... with every byte
// outside the unreserved set escaped.
func encodePairs(pairs []queryPair) string {
	if len(pairs) == 0 {
		return ""
	}
	slices.SortFunc(pairs, func(a, b queryPair) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p.name))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p.value))
	}
	return b.String()
}

// hasCredentials reports whether r carries credentials the origin could use
// to personalize its answer.
func hasCredentials(r *http.Request) bool {
	return len(r.Header["Authorization"]) > 0 || len(r.Header["Cookie"]) > 0
}
