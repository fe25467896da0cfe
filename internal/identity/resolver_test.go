package identity

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

var testTrusted = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("2001:db8:ffff::/48"),
	netip.MustParsePrefix("::ffff:192.168.1.0/120"), // mapped form, must match 192.168.1.x
}

func newReq(remote string, xff ...string) *http.Request {
	r := httptest.NewRequest("GET", "/live/a.m3u8", nil)
	r.RemoteAddr = remote
	for _, v := range xff {
		r.Header.Add("X-Forwarded-For", v)
	}
	return r
}

func TestClient(t *testing.T) {
	res := NewResolver(testTrusted)
	tests := []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"untrusted peer, no header", "203.0.113.9:5000", nil, "203.0.113.9"},
		{"untrusted peer ignores header", "203.0.113.9:5000", []string{"198.51.100.1"}, "203.0.113.9"},
		{"trusted peer, no header", "10.1.2.3:5000", nil, "10.1.2.3"},
		{"trusted peer, one hop", "10.1.2.3:5000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"spoofed left part skipped", "10.1.2.3:5000", []string{"1.1.1.1, 198.51.100.1"}, "198.51.100.1"},
		{"trusted hops skipped", "10.1.2.3:5000", []string{"1.1.1.1, 198.51.100.1, 10.9.9.9, 10.8.8.8"}, "198.51.100.1"},
		{"repeated header lines", "10.1.2.3:5000", []string{"1.1.1.1", "198.51.100.1, 10.9.9.9"}, "198.51.100.1"},
		{"last line wins order", "10.1.2.3:5000", []string{"10.7.7.7", "10.9.9.9"}, "10.7.7.7"},
		{"all trusted", "10.1.2.3:5000", []string{"10.5.5.5, 10.6.6.6"}, "10.5.5.5"},
		{"malformed stops", "10.1.2.3:5000", []string{"198.51.100.1, bogus, 10.9.9.9"}, "10.9.9.9"},
		{"malformed first", "10.1.2.3:5000", []string{"unknown"}, "10.1.2.3"},
		{"empty entry stops", "10.1.2.3:5000", []string{"198.51.100.1,,"}, "10.1.2.3"},
		{"ports and spaces", "10.1.2.3:5000", []string{" 198.51.100.1:4711 ,\t10.9.9.9:80 "}, "198.51.100.1"},
		{"bracketed v6", "10.1.2.3:5000", []string{"[2001:db8::1]"}, "2001:db8::1"},
		{"bracketed v6 port", "10.1.2.3:5000", []string{"[2001:db8::1]:443"}, "2001:db8::1"},
		{"bare v6", "10.1.2.3:5000", []string{"2001:db8::1"}, "2001:db8::1"},
		{"zone refused", "10.1.2.3:5000", []string{"fe80::1%eth0"}, "10.1.2.3"},
		{"mapped hop unmapped", "10.1.2.3:5000", []string{"::ffff:198.51.100.1"}, "198.51.100.1"},
		{"v6 trusted peer", "[2001:db8:ffff::5]:443", []string{"198.51.100.1"}, "198.51.100.1"},
		{"mapped trusted prefix", "[::ffff:192.168.1.4]:443", []string{"198.51.100.1"}, "198.51.100.1"},
		{"unparsable peer", "pipe", []string{"198.51.100.1"}, "invalid IP"},
		{"too many hops", "10.1.2.3:5000", []string{"198.51.100.1" + strings.Repeat(", 10.0.0.1", 20)}, "10.0.0.1"},
		{"too long", "10.1.2.3:5000", []string{"198.51.100.1" + strings.Repeat(","+strings.Repeat(" ", 200)+"10.0.0.2", 8)}, "10.0.0.2"},
		{"one huge entry", "10.1.2.3:5000", []string{strings.Repeat(" ", 2000) + "198.51.100.1"}, "10.1.2.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := res.Client(newReq(tt.remote, tt.xff...)).String(); got != tt.want {
				t.Fatalf("Client = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestNilResolverTrustsNothing(t *testing.T) {
	var res *Resolver
	if got := res.Client(newReq("10.1.2.3:1", "198.51.100.1")).String(); got != "10.1.2.3" {
		t.Fatalf("Client = %s", got)
	}
	if got := NewResolver(nil).Client(newReq("10.1.2.3:1", "198.51.100.1")).String(); got != "10.1.2.3" {
		t.Fatalf("Client = %s", got)
	}
}

// TestClientFromConnContext checks that the connection's peer recorded by
// ConnContext (the PROXY protocol source) wins over r.RemoteAddr.
func TestClientFromConnContext(t *testing.T) {
	c := &addrConn{remote: &net.TCPAddr{IP: net.ParseIP("10.4.4.4"), Port: 9}}
	ctx := ConnContext(context.Background(), c)
	r := newReq("192.0.2.200:1", "198.51.100.7").WithContext(ctx)
	if got := NewResolver(testTrusted).Client(r).String(); got != "198.51.100.7" {
		t.Fatalf("Client = %s, want the XFF hop behind the trusted PROXY source", got)
	}
	if got := NewResolver(nil).Client(r).String(); got != "10.4.4.4" {
		t.Fatalf("Client = %s, want the PROXY source", got)
	}
}

type addrConn struct {
	net.Conn
	remote net.Addr
}

func (c *addrConn) RemoteAddr() net.Addr { return c.remote }

func TestPrefixOf(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"192.0.2.77", "192.0.2.0/24"},
		{"::ffff:192.0.2.77", "192.0.2.0/24"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
	}
	for _, tt := range tests {
		if got := PrefixOf(netip.MustParseAddr(tt.addr)).String(); got != tt.want {
			t.Errorf("PrefixOf(%s) = %s, want %s", tt.addr, got, tt.want)
		}
	}
	if PrefixOf(netip.Addr{}).IsValid() {
		t.Error("PrefixOf(zero) is valid")
	}
	a := netip.MustParseAddr("2001:db8:1:2:3:4:5:6")
	for bits, want := range map[int]string{56: "2001:db8:1::/56", 48: "2001:db8:1::/48", 200: "2001:db8:1:2:3:4:5:6/128"} {
		if got := Aggregate(a, bits).String(); got != want {
			t.Errorf("Aggregate(/%d) = %s, want %s", bits, got, want)
		}
	}
	if got := Aggregate(netip.MustParseAddr("192.0.2.77"), 48).String(); got != "192.0.2.77/32" {
		t.Errorf("Aggregate(v4, 48) = %s", got)
	}
}

// FuzzClient checks the X-Forwarded-For walk: it never panics, never
// believes a header from an untrusted peer, and answers either the peer or
// an address written in the header.
func FuzzClient(f *testing.F) {
	for _, s := range []string{"198.51.100.1", "1.1.1.1, 10.0.0.1", "[2001:db8::1]:443, 10.0.0.1", ",,,", "fe80::1%x", "::ffff:1.2.3.4"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	res := NewResolver(testTrusted)
	f.Fuzz(func(t *testing.T, xff string, trustedPeer bool) {
		remote := "203.0.113.1:1"
		if trustedPeer {
			remote = "10.0.0.9:1"
		}
		peer := netip.MustParseAddrPort(remote).Addr()
		got := res.Client(newReq(remote, xff))
		if !got.IsValid() || got.Zone() != "" || got.Is4In6() {
			t.Fatalf("Client = %v", got)
		}
		if !trustedPeer && got != peer {
			t.Fatalf("untrusted peer: Client = %v, want %v", got, peer)
		}
		if got != peer && !strings.Contains(xff, got.String()) && !strings.Contains(strings.ToLower(xff), got.String()) {
			// Equivalent spellings (leading zeros, upper case, mapped
			// forms) are fine as long as some entry parses to got.
			found := false
			for e := range strings.SplitSeq(xff, ",") {
				if a, ok := parseHop(e); ok && a == got {
					found = true
				}
			}
			if !found {
				t.Fatalf("Client = %v, not the peer and not in %q", got, xff)
			}
		}
	})
}

func BenchmarkClient(b *testing.B) {
	res := NewResolver(testTrusted)
	b.Run("untrusted", func(b *testing.B) {
		r := newReq("203.0.113.9:5000", "198.51.100.1")
		b.ReportAllocs()
		for b.Loop() {
			res.Client(r)
		}
	})
	b.Run("trusted_3hops", func(b *testing.B) {
		r := newReq("10.1.2.3:5000", "1.1.1.1, 198.51.100.1, 10.9.9.9")
		b.ReportAllocs()
		for b.Loop() {
			res.Client(r)
		}
	})
}
