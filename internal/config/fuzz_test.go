package config

import (
	"errors"
	"testing"

	"github.com/rempart/rempart/internal/telemetry"
)

// FuzzParse checks that Parse never panics, that every error it returns is
// a configuration error, and that what it accepts passes Validate.
// Seeds: testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte(minimalYAML))
	f.Add([]byte("listen: :0\nsites: [{name: a, hosts: ['*'], origins: [{url: 'http://o'}]}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.yaml")
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse error is not ErrInvalid: %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted a config that Validate refuses: %v", err)
		}
		for i := range c.Sites {
			for cl, p := range c.Sites[i].Policies() {
				if p.KeepAllQuery && p.QueryKeep != nil {
					t.Fatalf("site %d class %v: KeepAllQuery with QueryKeep %q", i, telemetry.Class(cl), p.QueryKeep)
				}
			}
		}
	})
}

// FuzzParseByteSize checks that sizes are never negative and that String
// writes a size ParseByteSize reads back. Seeds: testdata/fuzz/FuzzParseByteSize.
func FuzzParseByteSize(f *testing.F) {
	for _, s := range []string{"0", "512MiB", "1GiB", "64MB", "4096B", " 7 KiB ", "-1", "9223372036854775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseByteSize(s)
		if err != nil {
			return
		}
		if b < 0 {
			t.Fatalf("ParseByteSize(%q) = %d, negative", s, int64(b))
		}
		back, err := ParseByteSize(b.String())
		if err != nil || back != b {
			t.Fatalf("ParseByteSize(%q) = %d; String %q reads back as %d, %v", s, int64(b), b.String(), int64(back), err)
		}
	})
}
