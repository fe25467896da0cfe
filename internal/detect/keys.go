package detect

import (
	"encoding/binary"
	"hash/maphash"
	"net/http"
	"net/netip"
)

// Who a request came from and what it asked for, reduced to hashes. The
// identity stage's prefix and fingerprint are used when the record carries
// them (sample.fill), so that mitigations name what the filter matches;
// requests that did not pass that stage get the same aggregation here
// (IPv4 /24, IPv6 /64) and a fingerprint from the User-Agent and the set of
// header names.

var seed = maphash.MakeSeed()

// Salts keep the source, prefix and fingerprint keys apart in the shared
// count-min sketch.
const (
	saltPrefix = 0x5bd1e9955bd1e995
	saltFinger = 0xc2b2ae3d27d4eb4f
)

// mix is the splitmix64 finaliser: a cheap, well-spread 64-bit hash.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func addrHash(a netip.Addr) uint64 {
	b := a.As16()
	return mix(binary.BigEndian.Uint64(b[:8]) ^ mix(binary.BigEndian.Uint64(b[8:])))
}

// prefixOf aggregates a client address: IPv4 /24, IPv6 /64.
func prefixOf(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	bits := 64
	if a.Is4() {
		bits = 24
	}
	p, _ := a.Prefix(bits) // invalid address: the zero Prefix
	return p
}

func prefixKey(p netip.Prefix) uint64 {
	return mix(addrHash(p.Addr()) ^ uint64(p.Bits()) ^ saltPrefix)
}

func sourceKey(a netip.Addr) uint64 { return addrHash(a.Unmap()) }

func fingerKey(fp uint64) uint64 { return mix(fp ^ saltFinger) }

func stringHash(s string) uint64 { return maphash.String(seed, s) }

// fingerprintOf hashes the User-Agent, the set of header names (Go's
// header map keeps no order) and the protocol version. It returns 0 when
// there is no request.
func fingerprintOf(r *http.Request) (fp uint64, ua string) {
	if r == nil {
		return 0, ""
	}
	ua = r.Header.Get("User-Agent")
	fp = stringHash(ua) ^ uint64(r.ProtoMajor)<<56
	for name := range r.Header {
		// Order-independent (a sum) and cheap: names are told apart by
		// length and first and last letters, enough for a fingerprint.
		if n := len(name); n > 0 {
			fp += mix(uint64(n)<<16 | uint64(name[0])<<8 | uint64(name[n-1]))
		}
	}
	if fp == 0 {
		fp = 1
	}
	return fp, ua
}
