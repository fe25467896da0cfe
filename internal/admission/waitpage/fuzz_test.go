package waitpage

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzSitePath checks that whatever return URL a caller passes, the page
// reloads a path on this site.
func FuzzSitePath(f *testing.F) {
	for _, s := range []string{"/live/master.m3u8?c=1", "//evil.example", "/\\evil", "https://x/", "/a\r\n", "/%2f%2fx", "/\t/x", "javascript:alert(1)", "/\u3000/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := sitePath(s, "/")
		u, err := url.Parse(got) // a kept path may not parse: "/%zz"
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\r\n\t\x00") ||
			(err == nil && (u.Host != "" || u.Scheme != "")) || len(got) > MaxReturn {
			t.Errorf("sitePath(%q) = %q: leaves the site", s, got)
		}
		if got != "/" && got != s {
			t.Errorf("sitePath(%q) = %q: rewrites a path it keeps", s, got)
		}
	})
}
