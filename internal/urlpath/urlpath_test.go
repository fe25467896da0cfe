package urlpath

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		in, want string
		err      error
	}{
		{in: "/live/720p/seg-1.ts", want: "/live/720p/seg-1.ts"},
		{in: "/", want: "/"},
		{in: "/a/", want: "/a/"},
		{in: "//api/login", want: "/api/login"},
		{in: "/./api/login", want: "/api/login"},
		{in: "/x/../api/login", want: "/api/login"},
		{in: "/api//login/", want: "/api/login/"},
		{in: "/%6eorm.ts", want: "/norm.ts"},
		{in: "//norm.ts", want: "/norm.ts"},
		{in: "/x/../norm.ts", want: "/norm.ts"},
		{in: "/a/%2e%2E/b", want: "/b"},
		{in: "/a/.%2e", want: "/"},
		{in: "/a/b/.", want: "/a/b/"},
		{in: "/a/b/..", want: "/a/"},
		{in: "/a/...", want: "/a/..."},
		{in: "/a/.b/..c", want: "/a/.b/..c"},
		{in: "/a%20b%3bc", want: "/a%20b%3Bc"},
		{in: "/a%7E%41", want: "/a~A"},
		{in: "/a;b=c,d:e@f", want: "/a;b=c,d:e@f"},
		{in: "/a b\"é", want: "/a%20b%22%C3%A9"},
		{in: "/[x]", want: "/%5Bx%5D"},
		{in: "/../x.ts", err: ErrEscapesRoot},
		{in: "/..", err: ErrEscapesRoot},
		{in: "/a/../../x.ts", err: ErrEscapesRoot},
		{in: "/%2e%2e/x.ts", err: ErrEscapesRoot},
		{in: "/a/..%2Fx", err: ErrEncodedSeparator},
		{in: "/a%2fb", err: ErrEncodedSeparator},
		{in: "/a%5Cb", err: ErrEncodedSeparator},
		{in: `/a\b`, err: ErrEncodedSeparator},
		{in: "/a%00.ts", err: ErrControl},
		{in: "/a%0d%0aX: y", err: ErrControl},
		{in: "/a\x01", err: ErrControl},
		{in: "/a%zz", err: ErrBadEscape},
		{in: "/a%4", err: ErrBadEscape},
		{in: "", err: ErrNotPath},
		{in: "a/b", err: ErrNotPath},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Normalize(tt.in)
			if !errors.Is(err, tt.err) || (tt.err != nil && err == nil) {
				t.Fatalf("Normalize(%q) err = %v, want %v", tt.in, err, tt.err)
			}
			if err == nil && got != tt.want {
				t.Fatalf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestNormalizeNoAllocWhenNormal: the common case, a path already normal,
// costs a scan and no allocation.
func TestNormalizeNoAllocWhenNormal(t *testing.T) {
	p := "/live/720p/seg-1042.ts"
	if n := testing.AllocsPerRun(100, func() { _, _ = Normalize(p) }); n != 0 {
		t.Fatalf("%v allocations, want 0", n)
	}
}

// FuzzNormalize: whatever the path, Normalize never panics; what it
// returns starts with "/", is its own normal form, and never climbs above
// the root nor holds an empty segment or an encoded separator.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"/", "//api/login", "/x/../norm.ts", "/%6eorm.ts", "/../x.ts", "/a/%2e%2E/b", "/a%2Fb", "/a b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got, err := Normalize(p)
		if err != nil {
			return
		}
		if !strings.HasPrefix(got, "/") {
			t.Fatalf("Normalize(%q) = %q: not a path", p, got)
		}
		if again, err := Normalize(got); err != nil || again != got {
			t.Fatalf("Normalize(%q) = %q, again %q, %v: not idempotent", p, got, again, err)
		}
		for i, seg := range strings.Split(got[1:], "/") {
			last := i == strings.Count(got[1:], "/")
			if seg == "." || seg == ".." || (seg == "" && !last) {
				t.Fatalf("Normalize(%q) = %q: segment %q left", p, got, seg)
			}
		}
		if u := strings.ToUpper(got); strings.Contains(u, "%2F") || strings.Contains(u, "%5C") || strings.Contains(u, "%00") {
			t.Fatalf("Normalize(%q) = %q: encoded separator or NUL left", p, got)
		}
	})
}

// BenchmarkNormalize: the cost on every request, for a normal path and
// for one that must be rewritten.
func BenchmarkNormalize(b *testing.B) {
	for _, p := range []string{"/live/720p/seg-1042.ts", "//live/./720p/x/../seg-%31042.ts"} {
		b.Run(p, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = Normalize(p)
			}
		})
	}
}
