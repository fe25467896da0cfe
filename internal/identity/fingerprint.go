package identity

import "net/http"

// browserHeaderBit returns the flag of a browser header whose presence
// Fingerprint records apart (0 for others). Together with the User-Agent
// family they separate a browser from a script that borrowed a browser's
// User-Agent. A switch, not a map: the compiler turns it into a few
// comparisons.
func browserHeaderBit(name string) uint64 {
	switch name {
	case "Accept":
		return 1 << 0
	case "Accept-Language":
		return 1 << 1
	case "Accept-Encoding":
		return 1 << 2
	case "Referer":
		return 1 << 3
	case "Cookie":
		return 1 << 4
	case "Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-Dest", "Sec-Fetch-User":
		return 1 << 5
	case "Sec-Ch-Ua", "Sec-Ch-Ua-Mobile", "Sec-Ch-Ua-Platform":
		return 1 << 6
	case "Origin":
		return 1 << 7
	case "Upgrade-Insecure-Requests":
		return 1 << 8
	case "Priority":
		return 1 << 9
	}
	return 0
}

// maxFingerprintHeaders bounds the header names hashed: net/http already
// caps header bytes, this caps the work per request.
const maxFingerprintHeaders = 64

// Fingerprint returns a 64-bit hash that groups requests sent by the same
// client software. It captures:
//
//   - the method and the protocol version (HTTP/1.0, 1.1, 2);
//   - the set of header names present (as net/http canonicalizes them, at
//     most 64), hashed order-independently;
//   - presence flags of the usual browser headers (Accept, Accept-Language,
//     Accept-Encoding, Referer, Cookie, Sec-Fetch-*, Sec-CH-UA*, Origin,
//     Upgrade-Insecure-Requests, Priority);
//   - the User-Agent family (see FamilyOf), not the full string, so that
//     version churn does not split a population.
//
// It cannot capture header order or case: net/http keeps headers in a map,
// and recovering the wire order would mean re-parsing every request
// ourselves. Header values other than the User-Agent's family are ignored,
// so it says "which software", never "which user". It does not allocate.
func Fingerprint(r *http.Request) uint64 {
	h := uint64(fnvOffset)
	h = fnvString(h, r.Method)
	h = fnvByte(h, byte(r.ProtoMajor))
	h = fnvByte(h, byte(r.ProtoMinor))
	h = fnvByte(h, byte(FamilyOf(r.Header.Get("User-Agent"))))
	// A sum of well-mixed per-name hashes is the same in any map order.
	var set, flags uint64
	n := 0
	for name := range r.Header {
		if n++; n > maxFingerprintHeaders {
			break
		}
		set += mix(fnvString(fnvOffset, name))
		flags |= browserHeaderBit(name)
	}
	return mix(mix(h^flags) ^ set)
}

// FNV-1a, 64-bit.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}

func fnvByte(h uint64, b byte) uint64 { return (h ^ uint64(b)) * fnvPrime }

func fnv64(b []byte) uint64 {
	h := uint64(fnvOffset)
	for _, c := range b {
		h = fnvByte(h, c)
	}
	return h
}

// mix is the splitmix64 finalizer: it spreads every input bit over the
// output, which FNV alone does poorly for the order-independent sum.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
