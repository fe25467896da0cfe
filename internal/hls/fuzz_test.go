package hls

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzParse checks that no input panics the parser, that what parses
// encodes back byte for byte and parses again to the same value, and that
// dropping variants gives a playlist that still parses.
func FuzzParse(f *testing.F) {
	for _, s := range []string{synthMaster, synthMedia, llMedia, "#EXTM3U\n", "#EXTM3U\r\n#EXT-X-TARGETDURATION:1\r\n",
		"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=\"a,b\"\nu\n#x\n\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			return
		}
		out := p.Encode()
		if !bytes.Equal(out, data) {
			t.Fatalf("Encode differs from input:\n%q\n%q", data, out)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("reparse: %v", err)
		}
		if !reflect.DeepEqual(p, again) {
			t.Fatalf("reparse differs:\n%+v\n%+v", p, again)
		}
		if m, ok := p.(*Master); ok {
			n := len(m.Variants)
			m.Variants = m.Variants[:n/2]
			m2, err := ParseMaster(m.Encode())
			if err != nil {
				t.Fatalf("after dropping variants: %v\n%q", err, m.Encode())
			}
			if len(m2.Variants) != n/2 {
				t.Fatalf("after dropping variants: %d variants, want %d", len(m2.Variants), n/2)
			}
		}
	})
}

// FuzzIndexAttr checks IndexAttr against ParseAttrs: on a list ParseAttrs
// accepts, it finds the same value, at a place that holds it.
func FuzzIndexAttr(f *testing.F) {
	for _, s := range []string{`URI="a"`, `TYPE=PART,URI="p.mp4"`, `A=1, URI="x,y",B=2`, `URI=x`, `B="URI=1"`, ``} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		attrs, perr := ParseAttrs(s)
		a, i, err := IndexAttr(s, "URI")
		if perr != nil {
			return // IndexAttr may accept repeats of other names
		}
		if err != nil {
			t.Fatalf("ParseAttrs accepts %q, IndexAttr fails: %v", s, err)
		}
		want, ok := attrs.Get("URI")
		if ok != (i >= 0) || a.Value != want {
			t.Fatalf("IndexAttr(%q) = %+v at %d, ParseAttrs has %q (%v)", s, a, i, want, ok)
		}
		if ok && s[i:i+len(a.Value)] != want {
			t.Fatalf("IndexAttr(%q): s[%d:] does not hold %q", s, i, want)
		}
	})
}
