package cache

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/rempart/rempart/internal/config"
)

func TestNormalizeQuery(t *testing.T) {
	keepAB := &config.Policy{QueryKeep: []string{"a", "b"}}
	all := &config.Policy{KeepAllQuery: true}
	none := &config.Policy{}
	tests := []struct {
		name, raw string
		pol       *config.Policy
		want      string
	}{
		{"none kept", "a=1&b=2", none, ""},
		{"empty", "", all, ""},
		{"drop unknown", "x=9&a=1&_=123", keepAB, "a=1"},
		{"sorted", "b=2&a=1", keepAB, "a=1&b=2"},
		{"same name by value", "a=2&a=1", keepAB, "a=1&a=2"},
		{"canonical escaping", "a=%7e+x&b=%2F", keepAB, "a=~+x&b=%2F"},
		{"bare name", "a", keepAB, "a="},
		{"invalid escape dropped", "a=%zz&b=1", keepAB, "b=1"},
		{"keep all", "z=1&y=2&&", all, "y=2&z=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := normalizeQuery(tt.raw, tt.pol); got != tt.want {
				t.Errorf("normalizeQuery(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}

func TestCacheKey(t *testing.T) {
	pol := &config.Policy{QueryKeep: []string{"v"}}
	r := httptest.NewRequest("GET", "/live/a%2Fb/seg.ts?v=2&rnd=77", nil)
	key, target := cacheKey("tv", r, pol, nil)
	if key != "tv:/live/a%2Fb/seg.ts?v=2" || target != "/live/a%2Fb/seg.ts?v=2" {
		t.Fatalf("key %q target %q", key, target)
	}
	r2 := httptest.NewRequest("GET", "/live/a%2Fb/seg.ts?rnd=1&v=2", nil)
	if k2, _ := cacheKey("tv", r2, pol, nil); k2 != key {
		t.Fatalf("reordered/random query changed key: %q vs %q", k2, key)
	}
	if k3, _ := cacheKey("radio", r, pol, nil); k3 == key {
		t.Fatal("site not part of the key")
	}
	shared := []string{"Accept", "Accept-Language"}
	r.Header.Add("Accept-Language", "fr")
	r.Header.Add("Accept-Language", "en;q=0.5")
	r.Header.Set("X-Unlisted", "1")
	k4, t4 := cacheKey("tv", r, pol, shared)
	if k4 != key+"\nAccept-Language:fr, en;q=0.5" || t4 != target {
		t.Fatalf("with shared headers: key %q target %q", k4, t4)
	}
	r5 := httptest.NewRequest("GET", "/live/seg.ts", nil)
	r5.Header = r.Header
	if n := testing.AllocsPerRun(100, func() { _, _ = cacheKey("tv", r5, pol, shared) }); n != 1 {
		t.Fatalf("cacheKey allocates %v times, want 1 (the key)", n)
	}
}

func FuzzKey(f *testing.F) {
	for _, s := range []string{"", "a=1&b=2", "b=2&a=1", "a=%20&a=+", "x&&y=;", "a=%zz", "v=1&v=0&_=9", "%00=%ff"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, raw string, all bool) {
		pol := &config.Policy{KeepAllQuery: all, QueryKeep: []string{"a", "b", "v", "x"}}
		q := normalizeQuery(raw, pol)
		if again := normalizeQuery(q, pol); again != q {
			t.Fatalf("not idempotent: %q -> %q -> %q", raw, q, again)
		}
		parts := strings.Split(raw, "&")
		slices.Reverse(parts)
		if rev := normalizeQuery(strings.Join(parts, "&"), pol); rev != q {
			t.Fatalf("order-sensitive: %q -> %q, reversed -> %q", raw, q, rev)
		}
	})
}
