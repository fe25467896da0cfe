package challenge

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
)

func TestClearance(t *testing.T) {
	var keys Keys
	if err := keys.Store([]byte("0123456789abcdef-first")); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	v4 := signClearance(&keys, home, uaChrome, now.Add(time.Hour))
	v6 := signClearance(&keys, home6, uaChrome, now.Add(time.Hour))
	tamper := []byte(v4)
	tamper[20] ^= 1 // inside the binding
	flipSig := []byte(v4)
	flipSig[len(flipSig)-3] ^= 2

	tests := []struct {
		name   string
		value  string
		client netip.Addr
		ua     string
		at     time.Time
		want   bool
	}{
		{"valid", v4, home, uaChrome, now, true},
		{"same /24, other address", v4, sameNet, uaChrome, now, false},
		{"IPv4-mapped", v4, netip.AddrFrom16(home.As16()), uaChrome, now, true},
		{"valid v6", v6, home6, uaChrome, now, true},
		{"same /64, other address", v6, same6, uaChrome, now, false},
		{"other /24 (copied to a bot)", v4, otherNet, uaChrome, now, false},
		{"other /64", v6, other6, uaChrome, now, false},
		{"other user agent", v4, home, uaFirefox, now, false},
		{"expired", v4, home, uaChrome, now.Add(time.Hour), false},
		{"just before expiry", v4, home, uaChrome, now.Add(time.Hour - time.Second), true},
		{"tampered binding", string(tamper), home, uaChrome, now, false},
		{"tampered signature", string(flipSig), home, uaChrome, now, false},
		{"empty", "", home, uaChrome, now, false},
		{"truncated", v4[:len(v4)-1], home, uaChrome, now, false},
		{"padding", v4 + "=", home, uaChrome, now, false},
		{"not base64", strings.Repeat("*", len(v4)), home, uaChrome, now, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := verifyClearance(&keys, tt.value, tt.client, tt.ua, tt.at); got != tt.want {
				t.Errorf("verifyClearance = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestClearanceForged(t *testing.T) {
	var ours, theirs Keys
	ours.Store([]byte("our-secret-0123456789"))
	theirs.Store([]byte("their-secret-0123456789"))
	now := time.Now()
	forged := signClearance(&theirs, home, uaChrome, now.Add(time.Hour))
	if verifyClearance(&ours, forged, home, uaChrome, now) {
		t.Error("a clearance signed with another key verifies")
	}
	// A challenge is signed with the same keys: it must never pass as a
	// clearance, whatever its length.
	ch := issue(&ours, home, uaChrome, 8, now)
	if verifyClearance(&ours, ch, home, uaChrome, now) {
		t.Error("a challenge verifies as a clearance")
	}
}

func TestKeyRotation(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	cfg := testConfig()
	cfg.KeyFile = writeFile(t, dir, "keys", "# clearance keys\nold-key-0123456789abcdef\n")
	c := newChallenger(t, cfg, clk)
	old := signClearance(c.Keys(), home, uaChrome, clk.now().Add(time.Hour))

	writeFile(t, dir, "keys", "new-key-0123456789abcdef\n\nold-key-0123456789abcdef\n")
	if err := c.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if !verifyClearance(c.Keys(), old, home, uaChrome, clk.now()) {
		t.Error("after rotation, a clearance signed by the old key no longer verifies")
	}
	fresh := signClearance(c.Keys(), home, uaChrome, clk.now().Add(time.Hour))
	var onlyNew, onlyOld Keys
	onlyNew.Store([]byte("new-key-0123456789abcdef"))
	onlyOld.Store([]byte("old-key-0123456789abcdef"))
	if !verifyClearance(&onlyNew, fresh, home, uaChrome, clk.now()) || verifyClearance(&onlyOld, fresh, home, uaChrome, clk.now()) {
		t.Error("after rotation, new clearances are not signed by the new (first) key")
	}

	// A bad file keeps the keys in use.
	writeFile(t, dir, "keys", "short\n")
	if err := c.Reload(); err == nil || !strings.Contains(err.Error(), "want at least 16") {
		t.Errorf("Reload of a short key = %v, want an error naming the length", err)
	}
	if !verifyClearance(c.Keys(), fresh, home, uaChrome, clk.now()) {
		t.Error("a failed reload dropped the keys in use")
	}
	writeFile(t, dir, "keys", "# nothing\n")
	if err := c.Reload(); err == nil {
		t.Error("Reload of an empty key file succeeded")
	}
}

func TestCookieValues(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		want    []string
	}{
		{"none", nil, nil},
		{"alone", []string{"rempart_clearance=abc"}, []string{"abc"}},
		{"among others", []string{"a=1; rempart_clearance=abc; b=2"}, []string{"abc"}},
		{"quoted", []string{`rempart_clearance="abc"`}, []string{"abc"}},
		{"prefix name is not ours", []string{"xrempart_clearance=abc; rempart_clearancex=d"}, nil},
		{"two headers", []string{"a=1", "rempart_clearance=x"}, []string{"x"}},
		{"duplicates, bounded", []string{"rempart_clearance=1; rempart_clearance=2; rempart_clearance=3; rempart_clearance=4"}, []string{"1", "2", "3"}},
		{"no equals", []string{"rempart_clearance; x=1"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Cookie": tt.headers}
			var got []string
			cookieValues(h, CookieName, func(v string) bool { got = append(got, v); return false })
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("values = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestClearedNoAllocs holds the valid path to its promise: a viewer with a
// clearance costs no allocation.
func TestClearedNoAllocs(t *testing.T) {
	clk := newClock()
	c := newChallenger(t, testConfig(), clk)
	r := request("GET", "/live/seg1.ts", home, uaChrome)
	r.Header.Set("Cookie", "theme=dark; "+CookieName+"="+signClearance(c.Keys(), home, uaChrome, clk.now().Add(time.Hour)))
	tw := telemetry.NewWriter(nil, clk.now())
	tw.Rec.Client = home
	if !c.Cleared(r, tw.Rec.Client) {
		t.Fatal("Cleared = false for a valid clearance")
	}
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race (sync.Pool drops items)")
	}
	if n := testing.AllocsPerRun(100, func() { c.Cleared(r, tw.Rec.Client) }); n != 0 {
		t.Errorf("Cleared allocates %v times per call, want 0", n)
	}
}

func BenchmarkCleared(b *testing.B) {
	clk := newClock()
	c := newChallenger(b, testConfig(), clk)
	var other Keys
	other.Store([]byte("someone-else-0123456789"))
	valid := CookieName + "=" + signClearance(c.Keys(), home, uaChrome, clk.now().Add(time.Hour))
	for _, bc := range []struct{ name, cookie string }{
		{"valid", "theme=dark; " + valid},
		{"forged", CookieName + "=" + signClearance(&other, home, uaChrome, clk.now().Add(time.Hour))},
		{"none", "theme=dark"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := request("GET", "/live/seg1.ts", home, uaChrome)
			r.Header.Set("Cookie", bc.cookie)
			b.ReportAllocs()
			for b.Loop() {
				c.Cleared(r, home)
			}
		})
	}
}
