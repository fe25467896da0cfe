package identity

import "net/netip"

// PrefixOf returns the network a client address is counted in: its IPv4 /24
// or its IPv6 /64. One household, phone or cloud instance usually holds a
// whole /64, so limiting single IPv6 addresses would be no limit at all.
// The zero Addr gives the zero Prefix.
func PrefixOf(a netip.Addr) netip.Prefix {
	if a.Unmap().Is4() {
		return Aggregate(a, 24)
	}
	return Aggregate(a, 64)
}

// Aggregate returns the prefix of a with the given number of bits, clamped
// to the address length (an IPv4 address asked for /48 gives its /32).
// IPv4-mapped IPv6 addresses are unmapped first, so they aggregate like
// IPv4. The detector uses it to widen a block from /64 to /56 or /48.
func Aggregate(a netip.Addr, bits int) netip.Prefix {
	a = a.Unmap()
	if !a.IsValid() {
		return netip.Prefix{}
	}
	bits = max(0, min(bits, a.BitLen()))
	// Prefix fails only for bits out of range, excluded above; it also
	// drops any IPv6 zone.
	p, _ := a.WithZone("").Prefix(bits)
	return p
}
