package attack

import (
	"strings"
	"testing"

	"golang.org/x/net/http2/hpack"
)

// TestBlockEncoder decodes the blocks with hpack's own decoder, as a server
// would: the request block on every stream, then junk fragments that stay
// within their size and leave the decoder's state intact.
func TestBlockEncoder(t *testing.T) {
	b := newBlockEncoder()
	block := b.request(true, "example.test", "/live/master.m3u8", defaultFloodUA)
	dec := hpack.NewDecoder(4096, nil)
	want := "[:method=GET :scheme=https :authority=example.test :path=/live/master.m3u8 user-agent=" + defaultFloodUA + "]"
	for i := range 3 { // the same block, stream after stream
		fs, err := dec.DecodeFull(block)
		if err != nil {
			t.Fatalf("block %d: %v", i, err)
		}
		if got := fieldsString(fs); got != want {
			t.Fatalf("block %d: %s, want %s", i, got, want)
		}
	}
	for _, n := range []int{32, 100, 512, 1024, maxFrameLen} {
		junk := b.junk(n)
		if len(junk) > n || len(junk) <= n-27 {
			t.Fatalf("junk(%d): %d bytes, want at most %d and within a field of it", n, len(junk), n)
		}
		fs, err := dec.DecodeFull(junk)
		if err != nil {
			t.Fatalf("junk(%d): %v", n, err)
		}
		for _, f := range fs {
			if !strings.HasPrefix(f.Name, "x-") || len(f.Name) != 8 || len(f.Value) != 16 {
				t.Fatalf("junk(%d): field %s", n, f)
			}
		}
	}
}

func fieldsString(fs []hpack.HeaderField) string {
	var s []string
	for _, f := range fs {
		s = append(s, f.Name+"="+f.Value)
	}
	return "[" + strings.Join(s, " ") + "]"
}
