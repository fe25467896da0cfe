package config

import (
	"fmt"
	"strings"
	"testing"
)

// TestTrustedProxiesCoverage: a trusted-proxy list is refused when its
// entries, merged, trust more public space than a /8 of IPv4 or a /32 of
// IPv6 /24 (issue 11, hole 6: two /1 trusted the Internet though /0 was
// refused); private ranges and real proxy ranges (a CDN's) pass.
func TestTrustedProxiesCoverage(t *testing.T) {
	tests := []struct {
		name string
		list []string
		want string // substring of the error; "" for accepted
	}{
		{"two halves", []string{"0.0.0.0/1", "128.0.0.0/1"}, "[0] 0.0.0.0/1, [1] 128.0.0.0/1 together trust"},
		{"a /7", []string{"10.0.0.0/8", "64.0.0.0/7"}, "[1] 64.0.0.0/7 together trust 33554432 public IPv4 addresses, more than a /8's worth"},
		{"many small", []string{"20.0.0.0/9", "20.128.0.0/9", "21.0.0.0/16"}, "[2] 21.0.0.0/16 together trust 16842752 public IPv4"},
		{"class E", []string{"240.0.0.0/4"}, "[0] 240.0.0.0/4 together trust"},
		{"v6 halves", []string{"::/1", "8000::/1"}, "public IPv6 addresses, more than a /24's worth"},
		{"v6 global unicast", []string{"2000::/3"}, "[0] 2000::/3 together trust"},
		{"v6 /23", []string{"fd00::/8", "2a00::/23"}, "[1] 2a00::/23 together trust"},
		{"v6 many /32s", v6s(257), "[0] 2a00::/32, [1] 2a00:1::/32, [2] 2a00:2::/32, [3] 2a00:3::/32, [4] 2a00:4::/32, and 252 more together trust"},
		{"private v4", []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16"}, ""},
		{"private v6", []string{"fc00::/7", "fe80::/10", "::1"}, ""},
		{"exactly a /8", []string{"10.0.0.0/7"}, ""}, // 10/8 private, 11/8 public
		{"duplicates merged", []string{"20.0.0.0/8", "20.0.0.0/8", "20.1.0.0/16", "20.1.2.3"}, ""},
		{"a cdn (Cloudflare's list)", []string{"173.245.48.0/20", "103.21.244.0/22", "103.22.200.0/22", "103.31.4.0/22",
			"141.101.64.0/18", "108.162.192.0/18", "190.93.240.0/20", "188.114.96.0/20", "197.234.240.0/22", "198.41.128.0/17",
			"162.158.0.0/15", "104.16.0.0/13", "104.24.0.0/14", "172.64.0.0/13", "131.0.72.0/22",
			"2400:cb00::/32", "2606:4700::/32", "2803:f800::/32", "2405:b500::/32", "2405:8100::/32", "2a06:98c0::/29", "2c0f:f248::/32"}, ""},
		{"exactly a /24 of v6", v6s(256), ""},
		{"one /32 of v6", []string{"2001:db8::/32", "2001:db8:1::/48", "fd00::/8"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			c.Shield.TrustedProxies = tt.list
			c.Defaults()
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate(%q) = %v, want accepted", tt.list, err)
			case tt.want != "" && err == nil:
				t.Errorf("Validate(%q) accepted, want an error with %q", tt.list, tt.want)
			case tt.want != "" && !oneLineHasAll(err.Error(), []string{"shield.trusted_proxies: ", tt.want, "list only the ranges of your own proxies"}):
				t.Errorf("Validate(%q) =\n%v\nwant a line with %q", tt.list, err, tt.want)
			}
		})
	}
}

// TestTrustedProxiesCoverageOnce: an entry cidrs already refuses (/0,
// garbage) is not reported a second time as too wide.
func TestTrustedProxiesCoverageOnce(t *testing.T) {
	c := validConfig()
	c.Shield.TrustedProxies = []string{"0.0.0.0/0", "nonsense"}
	c.Defaults()
	err := c.Validate()
	if err == nil || strings.Contains(err.Error(), "together trust") {
		t.Errorf("Validate = %v, want the /0 and the garbage reported by entry only", err)
	}
}

// v6s returns n distinct public IPv6 /32s.
func v6s(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("2a00:%x::/32", i)
	}
	return out
}
