package rewrite

import (
	"bytes"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/rempart/rempart/internal/hls"
)

// seeds are the playlists every fuzz target starts from: the fixtures,
// with CRLF line ends too, and small odd cases.
func seeds() []string {
	s := []string{master4, media10, llMedia,
		"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=\"mp4a.40.2\"\na/x.m3u8?k=1#f\n#x\n\n",
		"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=5,RESOLUTION=2x2\nhttps://cdn/a.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=5,RESOLUTION=2x2\n/b.m3u8\n",
		"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nseg.ts?rempart_session=a&rempart_session=b\n",
		"#EXTM3U\n#EXT-X-UNKNOWN:URI=\"u\"\n#EXT-X-MAP:URI=init.mp4\n#EXT-X-MAP:URI=\"//evil/x\"\n",
	}
	for _, p := range s[:3] {
		s = append(s, crlf(p))
	}
	return s
}

// FuzzLadder checks that no master makes NewLadder, Drop or Substitute
// panic; that Drop(0) is the input; that Drop(k) only removes lines, keeps
// Renditions()-k rungs (at least one) and parses; and that a substitute
// is a kept variant.
func FuzzLadder(f *testing.F) {
	for _, s := range seeds() {
		f.Add([]byte(s), 1)
		f.Add([]byte(s), 3)
	}
	f.Fuzz(func(t *testing.T, data []byte, k int) {
		l, err := NewLadder("/live/master.m3u8", data)
		if err != nil {
			return
		}
		if !bytes.Equal(l.Drop(0), data) {
			t.Fatal("Drop(0) differs from the input")
		}
		out := l.Drop(k)
		m, err := hls.ParseMaster(out)
		if err != nil {
			t.Fatalf("Drop(%d) does not parse: %v\n%q", k, err, out)
		}
		if !isSubsequence(lines(out), lines(data)) {
			t.Fatalf("Drop(%d) changed lines:\n%q\n%q", k, data, out)
		}
		if n := l.Renditions(); n > 0 && countRungs(m) != n-l.clamp(k) {
			t.Fatalf("Drop(%d) of %d rungs left %d", k, n, countRungs(m))
		}
		checkSubstitutes(t, l, data, m, k)
	})
}

// countRungs counts the rungs of m as a Ladder would.
func countRungs(m *hls.Master) int {
	tier := make([]int, len(m.Variants))
	ladderOrder(m.Variants, tier)
	n := 0
	for _, t := range tier {
		if t != never {
			n = max(n, t+1)
		}
	}
	return n
}

// checkSubstitutes asks Substitute for the path of every variant of the
// original master: a target must be the path of a variant left by Drop.
func checkSubstitutes(t *testing.T, l *Ladder, data []byte, kept *hls.Master, k int) {
	t.Helper()
	base := &url.URL{Path: "/live/master.m3u8"}
	var targets []string
	for _, v := range kept.Variants {
		if _, target := resolve(base, v.URI); target != "" {
			targets = append(targets, target)
		}
	}
	orig, _ := hls.ParseMaster(data)
	for _, v := range orig.Variants {
		p, _ := resolve(base, v.URI)
		if p == "" {
			continue
		}
		if target, ok := l.Substitute(p, k); ok && !slices.Contains(targets, target) {
			t.Fatalf("Substitute(%q, %d) = %q, not a kept variant %q", p, k, target, targets)
		}
	}
}

// lines splits b after each '\n'; the empty string after a final one is
// not a line.
func lines(b []byte) []string {
	l := strings.SplitAfter(string(b), "\n")
	if l[len(l)-1] == "" {
		l = l[:len(l)-1]
	}
	return l
}

// isSubsequence reports whether sub is seq with some elements removed.
func isSubsequence(sub, seq []string) bool {
	i := 0
	for _, s := range seq {
		if i < len(sub) && sub[i] == s {
			i++
		}
	}
	return i == len(sub)
}

// FuzzAddQuery checks that no input makes AddQuery panic, and
// checkAddQuery's properties.
func FuzzAddQuery(f *testing.F) {
	for _, s := range seeds() {
		f.Add([]byte(s), param, "v1.AbC-_9")
		f.Add([]byte(s), "a b+c", "a&b=c d")
	}
	for _, s := range []string{"#EXTM3U\n0\r", "#EXTM3U\n0\r\r", "#EXTM3U\n??"} { // found by fuzzing
		f.Add([]byte(s), param, "0")
	}
	f.Fuzz(func(t *testing.T, data []byte, param, value string) {
		if param == "" {
			return // documented: the input comes back
		}
		checkAddQuery(t, data, AddQuery(data, param, value), param, value)
	})
}

// checkAddQuery checks AddQuery's output for in: it is stable (a second
// AddQuery changes nothing), has the same lines, changed only where a
// local URI is, every local URI carrying param=value once; what parsed
// still parses, to as many variants or segments.
func checkAddQuery(t *testing.T, in, out []byte, param, value string) {
	t.Helper()
	if again := AddQuery(out, param, value); !bytes.Equal(again, out) {
		t.Fatalf("AddQuery is not stable:\n%q\n%q", out, again)
	}
	inLines, outLines := lines(in), lines(out)
	if len(inLines) != len(outLines) {
		t.Fatalf("line count %d, was %d", len(outLines), len(inLines))
	}
	if !bytes.HasPrefix(in, []byte("#EXTM3U")) || len(in) > hls.MaxSize {
		if !bytes.Equal(in, out) {
			t.Fatal("not a playlist, yet changed")
		}
		return
	}
	for i, l := range outLines {
		uris := lineURIs(strings.TrimSuffix(strings.TrimSuffix(l, "\n"), "\r"))
		if len(uris) == 0 && l != inLines[i] {
			t.Fatalf("line %d changed without a URI:\n%q\n%q", i+1, inLines[i], l)
		}
		for _, u := range uris {
			if n := countParam(u, param, value); IsLocal(u) && n != 1 {
				t.Fatalf("line %d: URI %q carries %s=%q %d times", i+1, u, param, value, n)
			}
		}
	}
	checkReparse(t, in, out)
}

// lineURIs returns the URIs of one line, read with hls.ParseAttrs: the
// line itself for a URI line, the URI attributes of a tag.
func lineURIs(text string) []string {
	switch {
	case strings.TrimSpace(text) == "" || text[0] == '#' && !strings.HasPrefix(text, "#EXT"):
		return nil
	case text[0] != '#':
		return []string{strings.Trim(text, " \t")}
	}
	name, list, _ := strings.Cut(text, ":")
	attrs, err := hls.ParseAttrs(list)
	if err != nil {
		return nil
	}
	var uris []string
	for _, a := range uriAttrs[name] {
		if v, ok := attrs.Get(a); ok {
			uris = append(uris, v)
		}
	}
	return uris
}

// countParam counts the pairs of uri's query that are param=value.
func countParam(uri, param, value string) int {
	uri, _, _ = strings.Cut(uri, "#")
	_, query, _ := strings.Cut(uri, "?")
	n := 0
	for pair := range strings.SplitSeq(query, "&") {
		k, v, _ := strings.Cut(pair, "=")
		k, _ = url.QueryUnescape(k)
		v, _ = url.QueryUnescape(v)
		if k == param && v == value {
			n++
		}
	}
	return n
}

// checkReparse checks that out parses when in does, to the same shape.
func checkReparse(t *testing.T, in, out []byte) {
	t.Helper()
	p, err := hls.Parse(in)
	if err != nil {
		return
	}
	q, err := hls.Parse(out)
	if err != nil {
		t.Fatalf("input parses, output does not: %v\n%q", err, out)
	}
	switch p := p.(type) {
	case *hls.Master:
		if m, ok := q.(*hls.Master); !ok || len(m.Variants) != len(p.Variants) {
			t.Fatalf("master reparsed as %T with other variants", q)
		}
	case *hls.Media:
		if m, ok := q.(*hls.Media); !ok || len(m.Segments) != len(p.Segments) || len(m.Pending) != len(p.Pending) {
			t.Fatalf("media reparsed as %T with other segments", q)
		}
	}
}
