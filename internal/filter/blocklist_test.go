package filter

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/telemetry"
)

func TestBlockTTLExpiry(t *testing.T) {
	s, clk := newShield(t, config.Shield{})
	m, err := s.Block(mustPrefix("203.0.113.0/24"), time.Minute, "scanner", "operator")
	if err != nil {
		t.Fatal(err)
	}
	if !m.Until.Equal(clk.Now().Add(time.Minute)) || m.ID != "block_prefix:203.0.113.0/24" {
		t.Fatalf("applied %+v", m)
	}
	if v := decideAt(s, clk, "203.0.113.200", telemetry.ClassAPI, "/"); v.Reason != ReasonBlocked {
		t.Fatalf("blocked client: %+v", v)
	}
	clk.Add(time.Minute)
	if v := decideAt(s, clk, "203.0.113.200", telemetry.ClassAPI, "/"); v.Reason != ReasonNone {
		t.Fatalf("expired block still refuses before any sweep: %+v", v)
	}
	if n := len(s.Blocks()); n != 0 {
		t.Fatalf("expired block listed: %d", n)
	}
	s.Sweep(clk.Now())
	if s.dyn.Load().Size() != 0 || len(s.byID) != 0 || len(s.expiry) != 0 {
		t.Fatalf("sweep left table %d, ids %d, expiry %d", s.dyn.Load().Size(), len(s.byID), len(s.expiry))
	}
}

func TestBlockRenewalExtends(t *testing.T) {
	s, clk := newShield(t, config.Shield{})
	p := mustPrefix("203.0.113.0/24")
	first, _ := s.Block(p, time.Minute, "one", "operator")
	decideAt(s, clk, "203.0.113.1", telemetry.ClassAPI, "/")
	clk.Add(50 * time.Second)
	again, _ := s.Block(p, time.Minute, "two", "operator")
	if !again.Since.Equal(first.Since) || again.Reason != "two" || again.Hits != 1 {
		t.Fatalf("renewal: %+v, want since kept, reason replaced, 1 hit kept", again)
	}
	clk.Add(30 * time.Second) // past the first end, before the second
	s.Sweep(clk.Now())
	if v := decideAt(s, clk, "203.0.113.1", telemetry.ClassAPI, "/"); v.Reason != ReasonBlocked {
		t.Fatalf("renewed block was swept at its old end: %+v", v)
	}
	clk.Add(time.Minute)
	s.Sweep(clk.Now())
	if s.dyn.Load().Size() != 0 {
		t.Fatal("renewed block not swept at its new end")
	}
}

func TestExpiredNarrowBlockUncoversWiderOne(t *testing.T) {
	s, clk := newShield(t, config.Shield{})
	s.Block(mustPrefix("203.0.0.0/16"), time.Hour, "wide", "operator")
	s.Block(mustPrefix("203.0.113.0/24"), time.Minute, "narrow", "operator")
	clk.Add(2 * time.Minute) // narrow expired, not swept: the /16 still holds
	if v := decideAt(s, clk, "203.0.113.1", telemetry.ClassAPI, "/"); v.Reason != ReasonBlocked {
		t.Fatalf("covered by a live /16: %+v", v)
	}
}

func TestBlockClamps(t *testing.T) {
	s, clk := newShield(t, config.Shield{})
	for _, p := range []string{"0.0.0.0/0", "10.0.0.0/7", "::/0", "2001:db8::/31", "::ffff:10.0.0.0/103"} {
		if _, err := s.Block(mustPrefix(p), time.Hour, "x", "operator"); !errors.Is(err, ErrTooWide) {
			t.Errorf("Block(%s): %v, want ErrTooWide", p, err)
		}
	}
	for _, p := range []string{"10.0.0.0/8", "2001:db8::/32"} {
		if _, err := s.Block(mustPrefix(p), time.Hour, "x", "operator"); err != nil {
			t.Errorf("Block(%s): %v", p, err)
		}
	}
	m, _ := s.Block(mustPrefix("198.51.100.7/24"), 365*24*time.Hour, "x", "operator")
	if m.Prefix != mustPrefix("198.51.100.0/24") || !m.Until.Equal(clk.Now().Add(MaxTTL)) {
		t.Fatalf("applied %+v, want host bits cleared and until now+%v", m, MaxTTL)
	}
	m, _ = s.Block(mustPrefix("::ffff:198.51.101.0/120"), time.Millisecond, "x", "operator")
	if m.Prefix != mustPrefix("198.51.101.0/24") || !m.Until.Equal(clk.Now().Add(MinTTL)) {
		t.Fatalf("applied %+v, want IPv4 /24 until now+%v", m, MinTTL)
	}
	if _, err := s.Block(netip.Prefix{}, time.Hour, "x", "operator"); err == nil {
		t.Fatal("invalid prefix blocked")
	}
}

func TestBlockMaxBlocks(t *testing.T) {
	s, clk := newShield(t, config.Shield{MaxBlocks: 2})
	s.Block(mustPrefix("203.0.113.1/32"), time.Minute, "x", "operator")
	s.Block(mustPrefix("203.0.113.2/32"), time.Hour, "x", "operator")
	if _, err := s.Block(mustPrefix("203.0.113.3/32"), time.Hour, "x", "operator"); !errors.Is(err, ErrBlocklistFull) {
		t.Fatalf("third block with max_blocks 2: %v, want ErrBlocklistFull", err)
	}
	if _, err := s.Block(mustPrefix("203.0.113.2/32"), time.Hour, "renew", "operator"); err != nil {
		t.Fatalf("renewal when full: %v", err)
	}
	clk.Add(2 * time.Minute) // the first expired: room is made by sweeping
	if _, err := s.Block(mustPrefix("203.0.113.3/32"), time.Hour, "x", "operator"); err != nil {
		t.Fatalf("block after one expired: %v", err)
	}
}

func TestUnblock(t *testing.T) {
	s, clk := newShield(t, config.Shield{})
	s.Block(mustPrefix("203.0.113.0/24"), time.Hour, "x", "operator")
	if s.Unblock(mustPrefix("203.0.113.0/25")) {
		t.Fatal("unblocked a prefix that was not blocked exactly")
	}
	if !s.Unblock(mustPrefix("203.0.113.9/24")) {
		t.Fatal("Unblock of the blocked /24 (host bits set) = false")
	}
	if v := decideAt(s, clk, "203.0.113.1", telemetry.ClassAPI, "/"); v.Reason != ReasonNone {
		t.Fatalf("after unblock: %+v", v)
	}
	if s.Unblock(mustPrefix("203.0.113.0/24")) {
		t.Fatal("second unblock = true")
	}
	s.Sweep(clk.Now().Add(2 * time.Hour)) // the stale expiry item goes quietly
}

func TestBlockFiles(t *testing.T) {
	f := writeFile(t, "blocks.txt", "# scanners\n\n203.0.113.0/24  # port scans\n198.51.100.7\n2001:db8:bad::/48\n")
	s, clk := newShield(t, config.Shield{BlockFiles: []string{f}})
	for _, c := range []string{"203.0.113.9", "198.51.100.7", "2001:db8:bad::1"} {
		if v := decideAt(s, clk, c, telemetry.ClassAPI, "/"); v.Reason != ReasonBlocked {
			t.Errorf("%s: %+v, want blocked by the file", c, v)
		}
	}
	bs := s.Blocks()
	if len(bs) != 3 {
		t.Fatalf("Blocks: %d, want 3", len(bs))
	}
	if b := bs[0]; b.Source != "file" || !b.Until.IsZero() || !strings.Contains(b.Reason, "blocks.txt:") {
		t.Fatalf("file block %+v, want source file, no end, file:line in reason", b)
	}
	if s.Unblock(mustPrefix("203.0.113.0/24")) {
		t.Fatal("Unblock removed a block-file entry")
	}
	clk.Add(MaxTTL * 2)
	if v := decideAt(s, clk, "203.0.113.9", telemetry.ClassAPI, "/"); v.Reason != ReasonBlocked {
		t.Fatal("file block expired")
	}
}

func TestBlockFileErrorsNameFileAndLine(t *testing.T) {
	f := writeFile(t, "bad.txt", "203.0.113.0/24\n\nnot-an-ip\n10.0.0.0/4 # too wide\n1.2.3.4 5.6.7.8\nfe80::1%eth0\n"+strings.Repeat("9", 2000)+"\n")
	_, err := New(config.Shield{BlockFiles: []string{f}}, nil, nil)
	if err == nil {
		t.Fatal("New accepted a bad block file")
	}
	for _, want := range []string{"bad.txt:3:", "bad.txt:4:", "too wide", "bad.txt:5:", "bad.txt:6:", "bad.txt:7: line longer"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, err := New(config.Shield{BlockFiles: []string{"/nonexistent/blocks.txt"}}, nil, nil); err == nil || !strings.Contains(err.Error(), "/nonexistent/blocks.txt") {
		t.Errorf("missing file: %v", err)
	}
	big := writeFile(t, "big.txt", "203.0.113.1\n203.0.113.2\n203.0.113.3\n")
	if _, err := New(config.Shield{BlockFiles: []string{big}, MaxBlocks: 2}, nil, nil); err == nil || !strings.Contains(err.Error(), "big.txt:3: more than 2") {
		t.Errorf("file over max_blocks: %v", err)
	}
}

func TestReloadKeepsStateAndRejectsBadConfig(t *testing.T) {
	f := writeFile(t, "a.txt", "203.0.113.0/24\n")
	s, clk := newShield(t, config.Shield{BlockFiles: []string{f}})
	s.Block(mustPrefix("198.51.100.0/24"), time.Hour, "x", "operator")
	decideAt(s, clk, "203.0.113.1", telemetry.ClassAPI, "/")
	err := s.Reload(config.Shield{Mode: "loud", Allow: []string{"nope"}, BlockFiles: []string{f}})
	if err == nil || !strings.Contains(err.Error(), "shield.mode") || !strings.Contains(err.Error(), "shield.allow[0]") {
		t.Fatalf("bad reload: %v, want both problems named", err)
	}
	if s.Mode() != "on" {
		t.Fatal("failed reload changed the mode")
	}
	g := writeFile(t, "b.txt", "203.0.113.0/24\n192.0.2.0/24\n")
	if err := s.Reload(config.Shield{Mode: "shadow", BlockFiles: []string{g}}); err != nil {
		t.Fatal(err)
	}
	if s.Mode() != "shadow" || len(s.Blocks()) != 3 {
		t.Fatalf("after reload: mode %s, %d blocks, want shadow and 3", s.Mode(), len(s.Blocks()))
	}
	for _, b := range s.Blocks() {
		if b.Prefix == mustPrefix("203.0.113.0/24") && b.Hits != 1 {
			t.Errorf("file block hits after reload: %d, want 1 kept", b.Hits)
		}
	}
}

func TestParsePrefix(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.7":          "203.0.113.7/32",
		"203.0.113.7/24":       "203.0.113.0/24",
		"2001:db8::1":          "2001:db8::1/128",
		"::ffff:203.0.113.7":   "203.0.113.7/32",
		"::ffff:203.0.0.0/112": "203.0.0.0/16",
	} {
		p, err := ParsePrefix(in)
		if err != nil || p.String() != want {
			t.Errorf("ParsePrefix(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
	for _, in := range []string{"", "x", "1.2.3.4/33", "fe80::1%eth0", "1.0.0.0/7", " 1.2.3.4"} {
		if _, err := ParsePrefix(in); err == nil {
			t.Errorf("ParsePrefix(%q) accepted", in)
		}
	}
}
