package filter

import (
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/mitigation"
	"github.com/rempart/rempart/internal/telemetry"
)

func TestDecideOrder(t *testing.T) {
	cfg := config.Shield{
		Allow: []string{"192.0.2.0/24"},
		Rates: []config.RateLimit{{Key: "ip", Rate: 1, Burst: 1}},
	}
	tests := []struct {
		name   string
		client string
		setup  func(*Shield)
		// two requests: the first spends the burst of 1
		want   [2]Reason
		status int
		allow  bool
	}{
		{name: "plain client, limited on the second", client: "198.51.100.1",
			want: [2]Reason{ReasonNone, ReasonRateLimited}, status: 429},
		{name: "allowlist beats limits", client: "192.0.2.9",
			want: [2]Reason{ReasonNone, ReasonNone}, allow: true},
		{name: "allowlist beats a block", client: "192.0.2.9",
			setup: func(s *Shield) { s.Block(mustPrefix("192.0.2.0/24"), time.Hour, "test", "operator") },
			want:  [2]Reason{ReasonNone, ReasonNone}, allow: true},
		{name: "block beats limits", client: "203.0.113.5",
			setup: func(s *Shield) { s.Block(mustPrefix("203.0.113.0/24"), time.Hour, "test", "operator") },
			want:  [2]Reason{ReasonBlocked, ReasonBlocked}, status: 403},
		{name: "block of a single address", client: "203.0.113.5",
			setup: func(s *Shield) { s.Block(mustPrefix("203.0.113.5/32"), time.Hour, "test", "operator") },
			want:  [2]Reason{ReasonBlocked, ReasonBlocked}, status: 403},
		{name: "shed beats limits", client: "198.51.100.1",
			setup: func(s *Shield) {
				s.Apply(mitigation.Mitigation{ID: "shed", Kind: mitigation.ShedRoute, Path: "/", Rate: MinRate, Reason: "test"})
			},
			want: [2]Reason{ReasonNone, ReasonShed}, status: 503},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, clk := newShield(t, cfg)
			if tc.setup != nil {
				tc.setup(s)
			}
			var v Verdict
			for i, want := range tc.want {
				v = decideAt(s, clk, tc.client, telemetry.ClassAPI, "/x")
				if v.Reason != want {
					t.Fatalf("request %d: reason %v, want %v", i+1, v.Reason, want)
				}
			}
			if v.Status != tc.status || v.Allowlisted != tc.allow {
				t.Fatalf("last verdict %+v, want status %d allowlisted %v", v, tc.status, tc.allow)
			}
		})
	}
}

func TestRateLimitRetryAfterAndRefill(t *testing.T) {
	s, clk := newShield(t, config.Shield{Rates: []config.RateLimit{{Key: "ip", Rate: 0.5, Burst: 2}}})
	for i := range 2 {
		if v := decideAt(s, clk, "198.51.100.1", telemetry.ClassAPI, "/"); v.Refused() {
			t.Fatalf("request %d within the burst refused: %+v", i+1, v)
		}
	}
	v := decideAt(s, clk, "198.51.100.1", telemetry.ClassAPI, "/")
	if v.Reason != ReasonRateLimited || v.Status != http.StatusTooManyRequests || v.RetryAfter != 2 {
		t.Fatalf("third request: %+v, want 429 rate_limited with Retry-After 2 (0.5/s)", v)
	}
	if v := decideAt(s, clk, "198.51.100.2", telemetry.ClassAPI, "/"); v.Refused() {
		t.Fatalf("another address shares no bucket: %+v", v)
	}
	clk.Add(1500 * time.Millisecond)
	if v := decideAt(s, clk, "198.51.100.1", telemetry.ClassAPI, "/"); v.RetryAfter != 1 {
		t.Fatalf("1.5 s later, 0.75 token: %+v, want Retry-After 1", v)
	}
	clk.Add(time.Second)
	if v := decideAt(s, clk, "198.51.100.1", telemetry.ClassAPI, "/"); v.Refused() {
		t.Fatalf("refilled: %+v", v)
	}
}

func TestLimitsByClassAndPath(t *testing.T) {
	s, clk := newShield(t, config.Shield{Rates: []config.RateLimit{
		{Key: "ip", Class: "master_playlist", Rate: 1, Burst: 1},
		{Key: "ip", Paths: []string{"/api/login"}, Rate: 1, Burst: 1},
	}})
	const ip = "198.51.100.1"
	tests := []struct {
		class   telemetry.Class
		path    string
		refused bool
	}{
		{telemetry.ClassMaster, "/live/master.m3u8", false},
		{telemetry.ClassMaster, "/live/master.m3u8", true}, // class limit spent
		{telemetry.ClassSegment, "/live/seg1.ts", false},   // other class: unlimited
		{telemetry.ClassSegment, "/live/seg2.ts", false},
		{telemetry.ClassAPI, "/api/login", false},
		{telemetry.ClassAPI, "/api/login?x=1", true}, // path limit spent
		{telemetry.ClassAPI, "/api/search", false},
	}
	for i, tc := range tests {
		v := decideAt(s, clk, ip, tc.class, tc.path)
		if v.Refused() != tc.refused {
			t.Errorf("request %d (%v %s): %+v, want refused=%v", i+1, tc.class, tc.path, v, tc.refused)
		}
	}
}

func TestPrefixKeyAggregates(t *testing.T) {
	s, clk := newShield(t, config.Shield{Rates: []config.RateLimit{{Key: "prefix", Rate: 1, Burst: 2}}})
	seq := []struct {
		client  string
		refused bool
	}{
		{"198.51.100.1", false},
		{"198.51.100.200", false},
		{"198.51.100.77", true}, // the /24's burst of 2 is spent
		{"198.51.101.1", false}, // next /24
		{"2001:db8:1:2::1", false},
		{"2001:db8:1:2:ffff::9", false},
		{"2001:db8:1:2:abcd::1", true}, // same /64
		{"::ffff:198.51.100.5", true},  // IPv4-mapped counts as IPv4
	}
	for _, c := range seq {
		if v := decideAt(s, clk, c.client, telemetry.ClassAPI, "/"); v.Refused() != c.refused {
			t.Errorf("%s: %+v, want refused=%v", c.client, v, c.refused)
		}
	}
}

func TestFingerprintKey(t *testing.T) {
	s, clk := newShield(t, config.Shield{Rates: []config.RateLimit{{Key: "fingerprint", Rate: 1, Burst: 1}}})
	for i, c := range []struct {
		client  string
		fp      uint64
		refused bool
	}{
		{"198.51.100.1", 42, false},
		{"203.0.113.9", 42, true}, // same fingerprint, other address
		{"203.0.113.9", 0, false}, // no fingerprint: not counted
		{"203.0.113.9", 0, false},
	} {
		rec, r := request(c.client, telemetry.ClassAPI, "/")
		rec.Fingerprint = c.fp
		if v := s.Decide(rec, r, clk.Now()); v.Refused() != c.refused {
			t.Errorf("request %d: %+v, want refused=%v", i+1, v, c.refused)
		}
	}
}

func TestShadowModePassesButCounts(t *testing.T) {
	s, clk := newShield(t, config.Shield{Mode: "shadow", Rates: []config.RateLimit{{Key: "ip", Rate: 1, Burst: 1}}})
	s.Block(mustPrefix("203.0.113.0/24"), time.Hour, "test", "operator")
	decideAt(s, clk, "198.51.100.1", telemetry.ClassAPI, "/")
	v := decideAt(s, clk, "198.51.100.1", telemetry.ClassAPI, "/")
	if v.Refused() || !v.Shadow || v.Reason != ReasonRateLimited {
		t.Fatalf("shadow over the limit: %+v, want passed with Shadow and reason rate_limited", v)
	}
	if v := decideAt(s, clk, "203.0.113.1", telemetry.ClassAPI, "/"); v.Refused() || v.Reason != ReasonBlocked {
		t.Fatalf("shadow blocked: %+v", v)
	}
	st := s.Stats()
	if st.Allowed.Load() != 1 || st.Shadowed[ReasonRateLimited].Load() != 1 || st.Shadowed[ReasonBlocked].Load() != 1 {
		t.Fatalf("stats: allowed %d shadow rate_limited %d shadow blocked %d, want 1 1 1",
			st.Allowed.Load(), st.Shadowed[ReasonRateLimited].Load(), st.Shadowed[ReasonBlocked].Load())
	}
	if st.Refused[ReasonRateLimited].Load() != 0 {
		t.Fatal("shadow mode counted an enforced refusal")
	}
}

func TestModeOffPassesEverything(t *testing.T) {
	s, clk := newShield(t, config.Shield{Mode: "off", Rates: []config.RateLimit{{Key: "ip", Rate: 1, Burst: 1}}})
	for range 5 {
		if v := decideAt(s, clk, "198.51.100.1", telemetry.ClassAPI, "/"); v.Reason != ReasonNone {
			t.Fatalf("mode off: %+v", v)
		}
	}
}

func TestSetRatesClampsAndKeepsBuckets(t *testing.T) {
	s, clk := newShield(t, config.Shield{Rates: []config.RateLimit{{Key: "ip", Rate: 1, Burst: 1}}})
	decideAt(s, clk, "198.51.100.1", telemetry.ClassAPI, "/") // spends the burst
	applied := s.SetRates([]config.RateLimit{
		{Key: "ip", Rate: 2},                       // same key: keeps its buckets; burst defaults to 4
		{Key: "ip", Rate: 1e9, Burst: 1 << 30},     // clamped
		{Key: "ip", Rate: 1e-9},                    // clamped
		{Key: "asn", Rate: 1},                      // unknown key: dropped
		{Key: "ip", Class: "nope", Rate: 1},        // unknown class: dropped
		{Key: "ip", Paths: []string{"x"}, Rate: 1}, // no valid path: dropped, not widened
	})
	if len(applied) != 3 {
		t.Fatalf("applied %d limits, want 3: %+v", len(applied), applied)
	}
	if a := applied[0]; a.Burst != 4 {
		t.Errorf("default burst for rate 2: %d, want 4", a.Burst)
	}
	if a := applied[1]; a.Rate != MaxRate || a.Burst != MaxBurst {
		t.Errorf("huge limit applied as %+v, want rate %v burst %v", a, MaxRate, MaxBurst)
	}
	if a := applied[2]; a.Rate != MinRate || a.Burst != 1 {
		t.Errorf("tiny limit applied as %+v, want rate %v burst 1", a, MinRate)
	}
	if v := decideAt(s, clk, "198.51.100.1", telemetry.ClassAPI, "/"); !v.Refused() {
		t.Fatal("reload gave a limited client a fresh bucket: want its bucket kept")
	}
}

func TestDecideAllowedPathAllocatesNothing(t *testing.T) {
	s, clk := newShield(t, config.Shield{
		Allow: []string{"192.0.2.0/24"},
		Rates: []config.RateLimit{{Key: "ip", Rate: 1e6}, {Key: "prefix", Class: "segment", Rate: 1e6}},
	})
	s.Block(mustPrefix("203.0.113.0/24"), time.Hour, "test", "operator")
	s.Apply(mitigation.Mitigation{ID: "t", Kind: mitigation.ThrottleFingerprint, Fingerprint: 7, Rate: 1e6, Reason: "test"})
	rec, r := request("198.51.100.1", telemetry.ClassSegment, "/live/seg.ts")
	rec.Fingerprint = 7
	now := clk.Now()
	if n := testing.AllocsPerRun(1000, func() { s.Decide(rec, r, now) }); n != 0 {
		t.Fatalf("allowed request: %v allocations, want 0", n)
	}
}

func BenchmarkDecideAllowed(b *testing.B) {
	s, clk := newShield(b, config.Shield{Rates: []config.RateLimit{
		{Key: "ip", Rate: 1e6}, {Key: "prefix", Rate: 1e6}, {Key: "ip", Class: "api", Paths: []string{"/api/login"}, Rate: 5},
	}})
	for i := range 1000 {
		s.Block(netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i / 250), byte(i % 250), 0}), 24), time.Hour, "bench", "operator")
	}
	rec, r := request("198.51.100.1", telemetry.ClassSegment, "/live/seg.ts")
	now := clk.Now()
	b.ReportAllocs()
	for b.Loop() {
		s.Decide(rec, r, now)
	}
}

func BenchmarkDecideAllowedParallel(b *testing.B) {
	s, clk := newShield(b, config.Shield{Rates: []config.RateLimit{{Key: "ip", Rate: 1e6}, {Key: "prefix", Rate: 1e6}}})
	now := clk.Now()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		rec, r := request("198.51.100.1", telemetry.ClassSegment, "/live/seg.ts")
		i := 0
		for pb.Next() {
			i++
			rec.Client = rec.Client.Next() // many clients, like a real audience
			s.Decide(rec, r, now)
		}
	})
}

func BenchmarkDecideBlocked(b *testing.B) {
	s, clk := newShield(b, config.Shield{})
	s.Block(mustPrefix("203.0.113.0/24"), time.Hour, "bench", "operator")
	rec, r := request("203.0.113.7", telemetry.ClassSegment, "/live/seg.ts")
	now := clk.Now()
	b.ReportAllocs()
	for b.Loop() {
		s.Decide(rec, r, now)
	}
}

func BenchmarkDecideRateLimited(b *testing.B) {
	s, clk := newShield(b, config.Shield{Rates: []config.RateLimit{{Key: "ip", Rate: 1, Burst: 1}}})
	rec, r := request("198.51.100.1", telemetry.ClassSegment, "/live/seg.ts")
	now := clk.Now()
	b.ReportAllocs()
	for b.Loop() {
		s.Decide(rec, r, now)
	}
}

func TestDefaultRatesApplyUnclamped(t *testing.T) {
	s, _ := newShield(t, config.Shield{})
	want := config.DefaultRates()
	got := s.SetRates(want)
	if len(got) != len(want) {
		t.Fatalf("applied %d of the %d default rates", len(got), len(want))
	}
	for i := range want {
		if got[i].Rate != want[i].Rate || got[i].Burst != want[i].Burst || got[i].Key != want[i].Key {
			t.Errorf("default %d applied as %+v, want %+v", i, got[i], want[i])
		}
	}
}
