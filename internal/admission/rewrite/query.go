package rewrite

import (
	"bytes"
	"net/url"
	"strings"

	"github.com/rempart/rempart/internal/hls"
)

// uriAttrs names, for each tag that carries URIs in its attributes, those
// attributes (at most two per tag: see appendTag). EXT-X-STREAM-INF has its
// URI on the next line, a URI line like a segment's.
var uriAttrs = map[string][]string{
	"#EXT-X-MEDIA":              {"URI"},
	"#EXT-X-I-FRAME-STREAM-INF": {"URI"},
	"#EXT-X-SESSION-DATA":       {"URI"},
	"#EXT-X-SESSION-KEY":        {"URI"},
	"#EXT-X-CONTENT-STEERING":   {"SERVER-URI"},
	"#EXT-X-KEY":                {"URI"},
	"#EXT-X-MAP":                {"URI"},
	"#EXT-X-PART":               {"URI"},
	"#EXT-X-PRELOAD-HINT":       {"URI"},
	"#EXT-X-RENDITION-REPORT":   {"URI"},
	"#EXT-X-DATERANGE":          {"X-ASSET-URI", "X-ASSET-LIST"}, // interstitials
}

// AddQuery returns playlist (master or media) with param=value, both
// query-escaped, in the query of every local URI (see IsLocal): URI lines
// (segments, variants) and the URI attributes of the tags that have them
// (EXT-X-MEDIA, EXT-X-I-FRAME-STREAM-INF, EXT-X-MAP, EXT-X-KEY,
// EXT-X-SESSION-KEY, EXT-X-SESSION-DATA, EXT-X-PART, EXT-X-PRELOAD-HINT,
// EXT-X-RENDITION-REPORT, EXT-X-CONTENT-STEERING's SERVER-URI and the
// interstitial X-ASSET-URI and X-ASSET-LIST of EXT-X-DATERANGE). A URI
// that already has param gets its value replaced, once; other parameters,
// the fragment and every other byte of the playlist are kept.
//
// URIs that are not local (absolute URLs, even to this edge, which AddQuery
// cannot tell from another host, and URIs built from EXT-X-DEFINE
// variables where a host could appear) are left alone: the token must not
// leak to third parties. The playlist is not validated: a line AddQuery
// cannot read (a malformed attribute list) is kept as is. Input that is
// not a playlist (no #EXTM3U first), over hls.MaxSize, or an empty param
// comes back unchanged, as the same slice.
func AddQuery(playlist []byte, param, value string) []byte {
	if param == "" || len(playlist) > hls.MaxSize || !bytes.HasPrefix(playlist, []byte("#EXTM3U")) {
		return playlist
	}
	q := newQuery(param, value)
	lines := bytes.Count(playlist, []byte{'\n'}) + 1
	out := make([]byte, 0, len(playlist)+(lines/2+1)*(len(q.pair)+1))
	s := string(playlist) // one copy: attributes are parsed as strings
	for len(s) > 0 {
		var text, eol string
		text, eol, s = cutLine(s)
		out = q.appendLine(out, text)
		out = append(out, eol...)
	}
	return out
}

// SetParam returns uri with param=value in its query, as AddQuery writes
// it in a playlist: for the Location of a redirect (Ladder.Substitute) to
// a player that carries its session in the query. A URI that is not local
// (IsLocal) or an empty param gives uri unchanged.
func SetParam(uri, param, value string) string {
	if param == "" || !IsLocal(uri) {
		return uri
	}
	q := newQuery(param, value)
	return string(q.appendURI(make([]byte, 0, len(uri)+len(q.pair)+1), uri))
}

// IsLocal reports whether a player resolves uri against the playlist's own
// address, keeping its host: a relative path ("720p/index.m3u8",
// "../a.ts") or an absolute path ("/live/a.ts"). It is false for an
// absolute URL ("https://...", "skd://...", "data:..."), a network-path
// reference ("//host/..."; browsers read a backslash as "/"), a URI with a
// control character or a leading space (which URL parsers drop, so that
// "/\t/host" is "//host"), a URI with an EXT-X-DEFINE variable where a
// scheme or host could appear ("{$base}/a.ts", "a{$n}.ts", "/{$p}/a.ts";
// "v/a{$n}.ts" is local), and the empty string.
func IsLocal(uri string) bool {
	if uri == "" || uri[0] == ' ' || strings.ContainsFunc(uri, isControl) {
		return false
	}
	if isSlash(uri[0]) {
		rest := uri[1:]
		return rest == "" || !isSlash(rest[0]) && !strings.HasPrefix(rest, "{$")
	}
	first := uri
	if i := strings.IndexAny(uri, "/\\?#"); i >= 0 {
		first = uri[:i]
	}
	return !strings.Contains(first, ":") && !strings.Contains(first, "{$")
}

func isSlash(c byte) bool { return c == '/' || c == '\\' }

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// cutLine splits off the first line of s: its text, its terminator ("\n",
// "\r\n", or at the end "" or a lone "\r", which players drop too) and
// the rest.
func cutLine(s string) (text, eol, rest string) {
	text, rest, found := strings.Cut(s, "\n")
	if found {
		eol = "\n"
	}
	if t, ok := strings.CutSuffix(text, "\r"); ok {
		text, eol = t, "\r"+eol
	}
	return text, eol, rest
}

// query is one parameter to set, escaped once for a whole playlist.
type query struct {
	param string // as given, to compare with unescaped keys
	name  string // escaped
	pair  string // name=value, escaped
}

func newQuery(param, value string) query {
	name := url.QueryEscape(param)
	return query{param: param, name: name, pair: name + "=" + url.QueryEscape(value)}
}

// appendLine appends one line of a playlist, its URIs rewritten. Lines are
// told apart as internal/hls does: blank, tag (#EXT), comment (#), URI.
func (q *query) appendLine(dst []byte, text string) []byte {
	switch {
	case strings.TrimSpace(text) == "" || text[0] == '#' && !strings.HasPrefix(text, "#EXT"):
		return append(dst, text...)
	case text[0] == '#':
		return q.appendTag(dst, text)
	}
	lead := len(text) - len(strings.TrimLeft(text, " \t"))
	core := strings.TrimRight(text[lead:], " \t") // the URI; the spaces around it stay
	dst = append(dst, text[:lead]...)
	dst = q.appendURI(dst, core)
	return append(dst, text[lead+len(core):]...)
}

// appendTag appends a tag line, with the URIs of its attributes rewritten
// when it is a tag that has some. A tag whose attribute list does not
// parse is appended as is.
func (q *query) appendTag(dst []byte, text string) []byte {
	name, list, ok := strings.Cut(text, ":")
	attrs := uriAttrs[name]
	if !ok || attrs == nil {
		return append(dst, text...)
	}
	var spans [2][2]int // start and end of each URI in text, in order
	n := 0
	for _, attr := range attrs {
		a, i, err := hls.IndexAttr(list, attr)
		if err != nil {
			return append(dst, text...)
		}
		if i >= 0 {
			start := len(name) + 1 + i
			spans[n] = [2]int{start, start + len(a.Value)}
			n++
		}
	}
	if n == 2 && spans[1][0] < spans[0][0] {
		spans[0], spans[1] = spans[1], spans[0]
	}
	prev := 0
	for _, sp := range spans[:n] {
		dst = append(dst, text[prev:sp[0]]...)
		dst = q.appendURI(dst, text[sp[0]:sp[1]])
		prev = sp[1]
	}
	return append(dst, text[prev:]...)
}

// appendURI appends uri with the parameter set in its query, when it is
// local; else as is.
func (q *query) appendURI(dst []byte, uri string) []byte {
	if !IsLocal(uri) {
		return append(dst, uri...)
	}
	rest, frag, hasFrag := strings.Cut(uri, "#")
	p, query, _ := strings.Cut(rest, "?")
	dst = append(dst, p...)
	dst = q.appendQuery(append(dst, '?'), query)
	if hasFrag {
		dst = append(append(dst, '#'), frag...)
	}
	return dst
}

// appendQuery appends query (after its '?') with the parameter set: its
// first occurrence takes the new value, later ones are dropped, and when
// there is none it is added at the end. Other pairs are kept as written.
func (q *query) appendQuery(dst []byte, query string) []byte {
	start := len(dst)
	set, n := false, 0 // n: pairs written
	for {
		pair, rest, more := strings.Cut(query, "&")
		dup := false
		if q.is(pair) {
			dup = set
			pair, set = q.pair, true
		}
		if !dup {
			if n > 0 {
				dst = append(dst, '&')
			}
			dst, n = append(dst, pair...), n+1
		}
		if !more {
			break
		}
		query = rest
	}
	if !set {
		if w := dst[start:]; len(w) > 0 && w[len(w)-1] != '&' {
			dst = append(dst, '&')
		}
		dst = append(dst, q.pair...)
	}
	return dst
}

// is reports whether the key of pair is the parameter, as written or
// once unescaped ("rempart%5Fsession" is the same key to a server).
func (q *query) is(pair string) bool {
	key, _, _ := strings.Cut(pair, "=")
	if key == q.name {
		return true
	}
	if !strings.ContainsAny(key, "%+") {
		return false
	}
	k, err := url.QueryUnescape(key)
	return err == nil && k == q.param
}
