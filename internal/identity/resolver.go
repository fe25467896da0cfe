package identity

import (
	"net/http"
	"net/netip"

	"github.com/gaissmai/bart"
)

// XFF bounds: a legitimate chain is a few hops long. Whatever lies beyond
// these is never read, so a client cannot make the edge walk a megabyte of
// addresses it prepended itself.
const (
	maxXFFBytes = 1024 // bytes of X-Forwarded-For considered, from the right
	maxXFFHops  = 16   // addresses considered, from the right
)

// Resolver finds the client address of a request, believing
// X-Forwarded-For only when it was appended by a trusted proxy. It is
// immutable once built and safe for concurrent use; a nil *Resolver trusts
// no proxy.
type Resolver struct {
	trusted *bart.Lite // nil when no proxy is trusted
}

// NewResolver returns a Resolver trusting the proxies in trusted (their
// X-Forwarded-For is believed). Empty: the TCP peer is always the client.
func NewResolver(trusted []netip.Prefix) *Resolver {
	return &Resolver{trusted: prefixSet(trusted)}
}

// prefixSet builds the lookup table for ps, or nil for an empty list.
func prefixSet(ps []netip.Prefix) *bart.Lite {
	if len(ps) == 0 {
		return nil
	}
	t := new(bart.Lite)
	for _, p := range ps {
		if p.IsValid() {
			// bart wants native IPv4, not ::ffff:a.b.c.d.
			if p.Addr().Is4In6() && p.Bits() >= 96 {
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
			t.Insert(p.Masked())
		}
	}
	return t
}

// Trusted reports whether a is a trusted proxy.
func (res *Resolver) Trusted(a netip.Addr) bool {
	return res != nil && res.trusted != nil && a.IsValid() && res.trusted.Contains(a)
}

// Client returns the client address of r: the TCP peer (the PROXY protocol
// source when the connection carried one), and, only when that peer is a
// trusted proxy, the right-most address of X-Forwarded-For that is not a
// trusted proxy. Walking from the right stops at the first malformed entry
// or past the length bounds; the last good hop is then the answer. The
// zero Addr means the peer could not be parsed (not a TCP request).
func (res *Resolver) Client(r *http.Request) netip.Addr {
	peer := Peer(r)
	if !res.Trusted(peer) {
		return peer
	}
	return res.walkXFF(peer, r.Header["X-Forwarded-For"])
}

// walkXFF walks the X-Forwarded-For lines from the last to the first (a
// repeated header is one list in order), each from its right end.
func (res *Resolver) walkXFF(client netip.Addr, lines []string) netip.Addr {
	budget, hops := maxXFFBytes, maxXFFHops
	for i := len(lines) - 1; i >= 0; i-- {
		line := lines[i]
		for end := len(line); end >= 0; {
			start := lastComma(line[:end]) + 1
			budget -= end - start + 1
			hops--
			if budget < 0 || hops < 0 {
				return client
			}
			a, ok := parseHop(line[start:end])
			if !ok {
				return client
			}
			client = a
			if !res.Trusted(a) {
				return a
			}
			end = start - 1
		}
	}
	return client
}

func lastComma(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ',' {
			return i
		}
	}
	return -1
}

// parseHop parses one X-Forwarded-For entry: an address, optionally with a
// port ("192.0.2.1:4711", "[2001:db8::1]:443") or in brackets, surrounded
// by optional spaces. Zones and anything else are malformed.
func parseHop(s string) (netip.Addr, bool) {
	s = trimOWS(s)
	if len(s) == 0 {
		return netip.Addr{}, false
	}
	var a netip.Addr
	var err error
	switch {
	case s[0] == '[' || isIPv4WithPort(s):
		var ap netip.AddrPort
		if s[len(s)-1] == ']' {
			a, err = netip.ParseAddr(s[1 : len(s)-1])
		} else if ap, err = netip.ParseAddrPort(s); err == nil {
			a = ap.Addr()
		}
	default:
		a, err = netip.ParseAddr(s)
	}
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// isIPv4WithPort reports whether s has exactly one colon (a.b.c.d:port);
// bare IPv6 addresses have at least two.
func isIPv4WithPort(s string) bool {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			n++
		}
	}
	return n == 1
}

func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// Peer returns the TCP peer of r: the address ConnContext recorded for the
// connection (the PROXY protocol source when there was one), else
// r.RemoteAddr parsed. IPv4-mapped addresses are unmapped.
func Peer(r *http.Request) netip.Addr {
	if info := connInfoFrom(r.Context()); info != nil && info.peer.IsValid() {
		return info.peer
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}
