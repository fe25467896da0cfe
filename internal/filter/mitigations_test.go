package filter

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/mitigation"
	"github.com/rempart/rempart/internal/telemetry"
)

func TestApplyLiftActive(t *testing.T) {
	s, clk := newShield(t, config.Shield{})
	var a mitigation.Actuator = s
	now := clk.Now()
	ms := []mitigation.Mitigation{
		{ID: "b1", Kind: mitigation.BlockPrefix, Prefix: mustPrefix("203.0.113.0/24"), Reason: "flood from /24", Until: now.Add(time.Minute)},
		{ID: "t1", Kind: mitigation.ThrottleFingerprint, Fingerprint: 99, Rate: 1, Reason: "bot fingerprint", Until: now.Add(time.Minute)},
		{ID: "s1", Kind: mitigation.ShedRoute, Path: "/api/search", Rate: 1, Reason: "search storm", Until: now.Add(time.Minute)},
		{ID: "p1", Kind: mitigation.StripParams, Class: "segment", Reason: "cache busting", Until: now.Add(time.Minute)},
		{ID: "a1", Kind: mitigation.AttackMode, Reason: "attack", Until: now.Add(time.Minute)},
	}
	for _, m := range ms {
		got, err := a.Apply(m)
		if err != nil {
			t.Fatalf("Apply(%s): %v", m.ID, err)
		}
		if got.Source != "detector" || !got.Since.Equal(now) || !got.Until.Equal(m.Until) {
			t.Errorf("Apply(%s) = %+v", m.ID, got)
		}
	}
	if got := a.Active(now); len(got) != 5 || got[0].ID != "a1" {
		t.Fatalf("Active: %d, first %q; want 5 sorted by ID", len(got), got[0].ID)
	}
	if !s.StripParams(telemetry.ClassSegment) || s.StripParams(telemetry.ClassAPI) || !s.AttackMode() {
		t.Fatal("flags: want strip for segments only and attack mode on")
	}

	// Throttle: 1/s per address for fingerprint 99, others untouched.
	throttled := func(client string, fp uint64) Verdict {
		rec, r := request(client, telemetry.ClassAPI, "/")
		rec.Fingerprint = fp
		return s.Decide(rec, r, clk.Now())
	}
	throttled("198.51.100.1", 99)
	if v := throttled("198.51.100.1", 99); v.Reason != ReasonThrottled || v.Status != 429 || v.RetryAfter != 1 {
		t.Fatalf("throttled fingerprint: %+v", v)
	}
	if v := throttled("198.51.100.2", 99); v.Refused() {
		t.Fatalf("throttle is per address: %+v", v)
	}
	if v := throttled("198.51.100.1", 98); v.Refused() {
		t.Fatalf("other fingerprint: %+v", v)
	}
	// TLS fingerprint matches too.
	rec, r := request("198.51.100.1", telemetry.ClassAPI, "/")
	rec.TLSFingerprint = 99
	if v := s.Decide(rec, r, clk.Now()); v.Reason != ReasonThrottled {
		t.Fatalf("throttle by TLS fingerprint: %+v", v)
	}

	// Shed: 1/s for everyone on /api/search.
	decideAt(s, clk, "198.51.100.3", telemetry.ClassAPI, "/api/search?q=a")
	if v := decideAt(s, clk, "198.51.100.4", telemetry.ClassAPI, "/api/search?q=b"); v.Reason != ReasonShed || v.Status != 503 {
		t.Fatalf("shed route: %+v", v)
	}
	if v := decideAt(s, clk, "198.51.100.4", telemetry.ClassAPI, "/api/other"); v.Refused() {
		t.Fatalf("other route shed: %+v", v)
	}

	if !a.Lift("t1") || a.Lift("t1") || !a.Lift("b1") {
		t.Fatal("Lift: want true, false, true")
	}
	if v := throttled("198.51.100.1", 99); v.Refused() {
		t.Fatalf("lifted throttle still applies: %+v", v)
	}
	if v := decideAt(s, clk, "203.0.113.1", telemetry.ClassAPI, "/"); v.Refused() {
		t.Fatalf("lifted block still applies: %+v", v)
	}

	clk.Add(time.Minute)
	if s.AttackMode() || s.StripParams(telemetry.ClassSegment) {
		t.Fatal("expired flags still set")
	}
	if got := a.Active(clk.Now()); len(got) != 0 {
		t.Fatalf("Active after expiry: %+v", got)
	}
	s.Sweep(clk.Now())
	if len(s.others) != 0 {
		t.Fatalf("sweep left %d mitigations", len(s.others))
	}
}

func TestApplyRenewsBySameID(t *testing.T) {
	s, clk := newShield(t, config.Shield{})
	m := mitigation.Mitigation{ID: "t", Kind: mitigation.ThrottleFingerprint, Fingerprint: 5, Rate: 1, Reason: "r1", Until: clk.Now().Add(time.Minute)}
	first, _ := s.Apply(m)
	rec, r := request("198.51.100.1", telemetry.ClassAPI, "/")
	rec.Fingerprint = 5
	s.Decide(rec, r, clk.Now())
	s.Decide(rec, r, clk.Now()) // a hit
	clk.Add(30 * time.Second)
	m.Reason, m.Rate, m.Until = "r2", 3, clk.Now().Add(time.Minute)
	again, err := s.Apply(m)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Since.Equal(first.Since) || again.Reason != "r2" || again.Rate != 3 || again.Hits != 1 || !again.Until.Equal(m.Until) {
		t.Fatalf("renewal %+v: want since kept, reason r2, rate 3, 1 hit, new until", again)
	}
	if n := len(s.Active(clk.Now())); n != 1 {
		t.Fatalf("renewal made %d mitigations, want 1", n)
	}
	// Same ID, new target: replaced, counted afresh.
	m.Fingerprint = 6
	replaced, _ := s.Apply(m)
	if replaced.Hits != 0 || !replaced.Since.Equal(clk.Now()) {
		t.Fatalf("retargeted: %+v, want a fresh mitigation", replaced)
	}
}

func TestApplyClampsAndRefuses(t *testing.T) {
	s, clk := newShield(t, config.Shield{})
	now := clk.Now()
	got, err := s.Apply(mitigation.Mitigation{ID: "s", Kind: mitigation.ShedRoute, Path: "/x", Rate: math.Inf(1), Reason: "r\x1b[31m", Until: now.Add(100 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Rate != MaxRate || !got.Until.Equal(now.Add(MaxTTL)) || got.Reason != "r [31m" {
		t.Fatalf("clamped: %+v", got)
	}
	got, _ = s.Apply(mitigation.Mitigation{ID: "t", Kind: mitigation.ThrottleFingerprint, Fingerprint: 1, Rate: -4, Reason: "r"})
	if got.Rate != MinRate || !got.Until.Equal(now.Add(DefaultMitigationTTL)) {
		t.Fatalf("clamped: %+v", got)
	}
	for name, m := range map[string]mitigation.Mitigation{
		"no id":                {Kind: mitigation.AttackMode, Reason: "r"},
		"no reason":            {ID: "x", Kind: mitigation.AttackMode},
		"unknown kind":         {ID: "x", Kind: "nuke", Reason: "r"},
		"no fingerprint":       {ID: "x", Kind: mitigation.ThrottleFingerprint, Reason: "r"},
		"bad path":             {ID: "x", Kind: mitigation.ShedRoute, Path: "api", Reason: "r"},
		"bad class":            {ID: "x", Kind: mitigation.StripParams, Class: "videos", Reason: "r"},
		"no prefix":            {ID: "x", Kind: mitigation.BlockPrefix, Reason: "r"},
		"too wide":             {ID: "x", Kind: mitigation.BlockPrefix, Prefix: mustPrefix("0.0.0.0/1"), Reason: "r"},
		"id of a block":        {ID: "block_prefix:203.0.113.0/24", Kind: mitigation.AttackMode, Reason: "r"},
		"no challenged prefix": {ID: "x", Kind: mitigation.ChallengePrefix, Reason: "r"},
		"challenge too wide":   {ID: "x", Kind: mitigation.ChallengePrefix, Prefix: mustPrefix("2000::/3"), Reason: "r"},
	} {
		if name == "id of a block" {
			s.Block(mustPrefix("203.0.113.0/24"), time.Hour, "r", "operator")
		}
		if _, err := s.Apply(m); !errors.Is(err, ErrBadMitigation) {
			t.Errorf("%s: %v, want ErrBadMitigation", name, err)
		}
	}
}

// TestChallengePrefix: attack mode for one prefix's clients, until it
// expires or is lifted; never in shadow mode.
func TestChallengePrefix(t *testing.T) {
	s, clk := newShield(t, config.Shield{})
	m, err := s.Apply(mitigation.Mitigation{ID: "c", Kind: mitigation.ChallengePrefix,
		Prefix: mustPrefix("203.0.113.77/24"), Reason: "flooders' /24", Until: clk.Now().Add(time.Minute)})
	if err != nil || m.Prefix != mustPrefix("203.0.113.0/24") {
		t.Fatalf("Apply: %+v %v, want the prefix masked", m, err)
	}
	in, out := netip.MustParseAddr("203.0.113.9"), netip.MustParseAddr("203.0.114.9")
	if !s.PrefixChallenged(in) || s.PrefixChallenged(out) || s.AttackMode() {
		t.Fatal("want the prefix's clients challenged, no one else, and attack mode off")
	}
	if !s.PrefixChallenged(netip.MustParseAddr("::ffff:203.0.113.9")) {
		t.Fatal("an IPv4-mapped client of the prefix is not challenged")
	}
	if got := s.Active(clk.Now()); len(got) != 1 || got[0].Hits != 2 || got[0].Prefix != m.Prefix {
		t.Fatalf("Active: %+v, want the mitigation with 2 hits", got)
	}
	clk.Add(2 * time.Minute)
	if s.PrefixChallenged(in) {
		t.Fatal("challenged after expiry")
	}
	s.Apply(mitigation.Mitigation{ID: "c", Kind: mitigation.ChallengePrefix, Prefix: mustPrefix("203.0.113.0/24"),
		Reason: "again", Until: clk.Now().Add(time.Minute)})
	if !s.PrefixChallenged(in) || !s.Lift("c") || s.PrefixChallenged(in) {
		t.Fatal("want challenged when applied again, not once lifted")
	}

	shadow, clk2 := newShield(t, config.Shield{Mode: "shadow"})
	shadow.Apply(mitigation.Mitigation{ID: "c", Kind: mitigation.ChallengePrefix, Prefix: mustPrefix("203.0.113.0/24"),
		Reason: "r", Until: clk2.Now().Add(time.Minute)})
	if shadow.PrefixChallenged(in) {
		t.Fatal("challenged in shadow mode")
	}
}

func TestShadowMitigationsNotEnforced(t *testing.T) {
	s, clk := newShield(t, config.Shield{Mode: "shadow"})
	m, _ := s.Apply(mitigation.Mitigation{ID: "a", Kind: mitigation.AttackMode, Reason: "r", Until: clk.Now().Add(time.Minute)})
	s.Apply(mitigation.Mitigation{ID: "p", Kind: mitigation.StripParams, Reason: "r", Until: clk.Now().Add(time.Minute)})
	if !m.Shadow || s.AttackMode() || s.StripParams(telemetry.ClassSegment) {
		t.Fatalf("shadow: applied %+v, attack %v strip %v; want marked shadow and flags off", m, s.AttackMode(), s.StripParams(telemetry.ClassSegment))
	}
}

func TestTooManyMitigations(t *testing.T) {
	s, clk := newShield(t, config.Shield{})
	for i := range maxMitigations {
		if _, err := s.Apply(mitigation.Mitigation{ID: "m" + string(rune(i+0x100)), Kind: mitigation.AttackMode, Reason: "r", Until: clk.Now().Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.Apply(mitigation.Mitigation{ID: "one more", Kind: mitigation.AttackMode, Reason: "r"})
	if !errors.Is(err, ErrTooManyActions) {
		t.Fatalf("past the bound: %v", err)
	}
	clk.Add(2 * time.Minute) // all expired: room again
	if _, err := s.Apply(mitigation.Mitigation{ID: "one more", Kind: mitigation.AttackMode, Reason: "r"}); err != nil {
		t.Fatal(err)
	}
}

// TestAggregateThrottle: a botnet's fingerprint throttled as a whole, one
// bucket for every address, so bots each under any per-address rate are
// still held to the total.
func TestAggregateThrottle(t *testing.T) {
	s, clk := newShield(t, config.Shield{})
	if _, err := s.Apply(mitigation.Mitigation{ID: "bn", Kind: mitigation.ThrottleFingerprint, Fingerprint: 42,
		Aggregate: true, Rate: 1, Reason: "botnet", Until: clk.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	refused := 0
	for i := range 50 {
		rec, r := request(fmt.Sprintf("198.51.%d.%d", 100+i/200, 1+i%200), telemetry.ClassMaster, "/live/master.m3u8")
		rec.Fingerprint = 42
		if s.Decide(rec, r, clk.Now()).Reason == ReasonThrottled {
			refused++
		}
	}
	if refused < 45 {
		t.Fatalf("%d of 50 bots (one request each) throttled, want all but the burst", refused)
	}
}
