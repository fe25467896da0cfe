package challenge

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

var fuzzNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func fuzzKeys() *Keys {
	var k Keys
	k.Store([]byte("fuzz-key-0123456789abcdef"))
	return &k
}

// FuzzClearanceCookie feeds Cookie headers to the parser and the verifier:
// no panic, and nothing but a clearance we signed for this client passes.
func FuzzClearanceCookie(f *testing.F) {
	keys := fuzzKeys()
	valid := signClearance(keys, home, uaChrome, fuzzNow.Add(time.Hour))
	f.Add(CookieName + "=" + valid)
	f.Add("a=1; " + CookieName + "=\"" + valid + "\"; b=2")
	f.Add(CookieName + "=" + valid[:40] + "; " + CookieName + "=" + valid)
	f.Add(CookieName + "=")
	f.Add(";;;=;" + CookieName)
	f.Add(CookieName + "=" + strings.Repeat("A", len(valid)))
	f.Fuzz(func(t *testing.T, header string) {
		h := http.Header{"Cookie": {header}}
		ok := cookieValues(h, CookieName, func(v string) bool {
			return verifyClearance(keys, v, home, uaChrome, fuzzNow)
		})
		if ok && !strings.Contains(header, valid[:len(valid)-1]) {
			t.Errorf("a cookie header without our clearance verified: %q", header)
		}
	})
}

// FuzzCheck feeds challenges and counters to the solution checker.
func FuzzCheck(f *testing.F) {
	keys := fuzzKeys()
	ch := issue(keys, home, uaChrome, 4, fuzzNow)
	f.Add(ch, Solve(ch, 4))
	f.Add(ch, "0")
	f.Add(ch[:10], "1")
	f.Add("", "")
	f.Add(strings.Repeat("_", len(ch)), "99999999")
	f.Fuzz(func(t *testing.T, challenge, counter string) {
		_, err := check(keys, challenge, counter, home, uaChrome, fuzzNow)
		// Seeds are made again in each fuzzing process, with a fresh
		// nonce: what passes must at least be signed-length and solved.
		if err == nil && (len(challenge) != len(ch) || leadingZeros(challenge, counter) < 4) {
			t.Errorf("an unsolved challenge passed: %q %q", challenge, counter)
		}
	})
}

// FuzzSafeReturn checks that whatever a client sends as the return URL, the
// redirect stays on this site.
func FuzzSafeReturn(f *testing.F) {
	for _, s := range []string{"/watch?c=1", "//evil.example", "/\\evil", "https://x/", "/a\r\n", "/%2f%2fx", "/_rempart/challenge/verify", "/\u3000/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := safeReturn(s)
		u, err := url.Parse(got)
		if err != nil || u.Host != "" || u.Scheme != "" || !strings.HasPrefix(got, "/") ||
			strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\r\n\t") {
			t.Errorf("safeReturn(%q) = %q: leaves the site", s, got)
		}
	})
}

// FuzzPickLang: any header picks one of our languages.
func FuzzPickLang(f *testing.F) {
	f.Add("fr-CA,fr;q=0.9,en;q=0.8")
	f.Add(";q=,,,;")
	f.Fuzz(func(t *testing.T, h string) {
		if l := pickLang(h); l >= numLangs {
			t.Errorf("pickLang(%q) = %d", h, l)
		}
	})
}
