package config

import (
	"cmp"
	"fmt"
	"math/big"
	"net/netip"
	"slices"
	"strings"
)

// A trusted proxy's X-Forwarded-For is believed, so every address a list
// of trusted proxies covers can choose the client address the shield
// judges. [0.0.0.0/1, 128.0.0.0/1] trusts the whole Internet as surely as
// the /0 the list refuses, so the list as a whole is measured, merged,
// against the space a real proxy fleet needs. Cloudflare's IPv4 ranges are
// about 1.5 million addresses, a /8 is 16.8 million; its IPv6 ranges are
// fourteen /32s (one a /29) and CloudFront's a /28, a /24 is 256 /32s,
// still a two-millionth of the global unicast space.
const (
	maxTrustedBits4 = 8  // at most one /8's worth of public IPv4
	maxTrustedBits6 = 24 // at most one /24's worth of public IPv6
)

// nonPublic are the ranges no client reaches the edge from across the
// Internet, where the proxies in front of an edge usually sit: trusting
// them costs nothing, so they do not count against the limits above. They
// are disjoint, so one listed prefix contains each of them or not.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),     // RFC 1918
	netip.MustParsePrefix("100.64.0.0/10"),  // RFC 6598 shared address space
	netip.MustParsePrefix("127.0.0.0/8"),    // loopback
	netip.MustParsePrefix("169.254.0.0/16"), // link-local
	netip.MustParsePrefix("172.16.0.0/12"),  // RFC 1918
	netip.MustParsePrefix("192.168.0.0/16"), // RFC 1918
	netip.MustParsePrefix("::1/128"),        // loopback
	netip.MustParsePrefix("fc00::/7"),       // unique local
	netip.MustParsePrefix("fe80::/10"),      // link-local
}

// maxNamed bounds the entries a coverage error names, widest first.
const maxNamed = 5

// listed is one entry of a CIDR list and its index there.
type listed struct {
	i int
	p netip.Prefix
}

// trustCoverage checks that the trusted proxies of list, once merged, do
// not cover more public address space than maxTrustedBits4/6 allow. Entries
// that do not parse, and /0, are left to cidrs, which reports them.
func (v *validator) trustCoverage(key string, list []string) {
	var v4, v6 []listed
	for i, s := range list {
		p, err := parseCIDR(s)
		switch {
		case err != nil || p.Bits() == 0:
		case p.Addr().Is4():
			v4 = append(v4, listed{i, p})
		default:
			v6 = append(v6, listed{i, p})
		}
	}
	v.coverage(key, list, v4, maxTrustedBits4)
	v.coverage(key, list, v6, maxTrustedBits6)
}

// coverage reports when the public addresses of ps (one family) outnumber
// a /maxBits, naming the entries that cover public space, widest first.
func (v *validator) coverage(key string, list []string, ps []listed, maxBits int) {
	if len(ps) == 0 {
		return
	}
	bitLen, family := ps[0].p.Addr().BitLen(), "IPv6"
	if bitLen == 32 {
		family = "IPv4"
	}
	ps = outermost(ps)
	total := new(big.Int)
	var culprits []listed
	for _, e := range ps {
		if n := publicSize(e.p); n.Sign() > 0 {
			total.Add(total, n)
			culprits = append(culprits, e)
		}
	}
	if total.Cmp(size(bitLen-maxBits)) <= 0 {
		return
	}
	names := make([]string, 0, maxNamed+1)
	for _, e := range culprits[:min(len(culprits), maxNamed)] {
		names = append(names, fmt.Sprintf("[%d] %s", e.i, list[e.i]))
	}
	if len(culprits) > maxNamed {
		names = append(names, fmt.Sprintf("and %d more", len(culprits)-maxNamed))
	}
	v.add(key, fmt.Sprintf("%s together trust %s public %s addresses, more than a /%d's worth: any client there "+
		"could choose its own address in X-Forwarded-For; list only the ranges of your own proxies or load balancers "+
		"(private ranges such as 10.0.0.0/8 or fc00::/7 do not count)", strings.Join(names, ", "), total, family, maxBits))
}

// outermost drops the entries that another entry contains (or repeats),
// and returns the rest widest first: two prefixes are nested or disjoint,
// so what is left is disjoint.
func outermost(ps []listed) []listed {
	slices.SortStableFunc(ps, func(a, b listed) int { return cmp.Compare(a.p.Bits(), b.p.Bits()) })
	var out []listed
	for _, e := range ps {
		if !slices.ContainsFunc(out, func(o listed) bool { return o.p.Overlaps(e.p) }) {
			out = append(out, e)
		}
	}
	return out
}

// publicSize is how many addresses of p lie outside nonPublic.
func publicSize(p netip.Prefix) *big.Int {
	n := size(p.Addr().BitLen() - p.Bits())
	for _, q := range nonPublic {
		switch {
		case q.Bits() <= p.Bits() && q.Contains(p.Addr()):
			return new(big.Int)
		case q.Bits() > p.Bits() && p.Contains(q.Addr()):
			n.Sub(n, size(q.Addr().BitLen()-q.Bits()))
		}
	}
	return n
}

// size is 2^hostBits, the number of addresses of a prefix with that many
// host bits.
func size(hostBits int) *big.Int {
	return new(big.Int).Lsh(big.NewInt(1), uint(hostBits))
}
