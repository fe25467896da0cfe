package identity

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"hash"
	"slices"
)

// TLS extension numbers JA4 treats apart.
const (
	extServerName = 0x0000
	extALPN       = 0x0010
)

// maxHelloList bounds the cipher suites and extensions sorted on the
// stack; a ClientHello with more (legal, rare) sorts on the heap.
const maxHelloList = 64

// HelloFingerprint returns a JA4-style fingerprint of a TLS ClientHello:
// the string "t13d1516h2_<ciphers>_<extensions>" and a 64-bit hash of it
// (FNV-1a) for tables and rate-limit keys. It follows the public JA4
// description (FoxIO, JA4 technical details):
//
//   - "t" (TCP), the highest offered version without GREASE ("13", "12",
//     "11", "10", "s3", else "00"), "d" when SNI is present else "i", the
//     number of cipher suites and of extensions without GREASE (two
//     digits, at most 99), and the first and last character of the first
//     ALPN value ("00" without ALPN; hex digits when they are not
//     alphanumeric);
//   - the first 12 hex digits of SHA-256 over the cipher suites as 4-digit
//     hex, sorted, comma-separated, GREASE removed;
//   - the same over the extensions, sorted, GREASE, SNI and ALPN removed,
//     then "_" and the signature schemes in the order offered.
//
// An empty list hashes to "000000000000", as in JA4.
//
// Deviations: the input is what crypto/tls parses (ClientHelloInfo), so a
// field Go does not expose cannot count; QUIC and DTLS hellos ("q", "d")
// never reach this hook; GREASE is also removed from the signature
// schemes, which real clients do not grease. The "JA4_r"/"JA4_o" raw and
// original-order variants are not produced.
func HelloFingerprint(h *tls.ClientHelloInfo) (uint64, string) {
	var buf [40]byte
	b := appendHelloA(buf[:0], h)
	b = append(b, '_')
	b = appendHash12(b, hashCiphers(h.CipherSuites))
	b = append(b, '_')
	b = appendHash12(b, hashExtensions(h.Extensions, h.SignatureSchemes))
	return fnv64(b), string(b)
}

// appendHelloA appends JA4's first part: t13d1516h2.
func appendHelloA(b []byte, h *tls.ClientHelloInfo) []byte {
	b = append(b, 't')
	b = append(b, versionCode(h.SupportedVersions)...)
	if slices.Contains(h.Extensions, extServerName) || (len(h.Extensions) == 0 && h.ServerName != "") {
		b = append(b, 'd')
	} else {
		b = append(b, 'i')
	}
	b = appendCount(b, countNonGREASE(h.CipherSuites))
	b = appendCount(b, countNonGREASE(h.Extensions))
	return appendALPN(b, h.SupportedProtos)
}

func versionCode(vs []uint16) string {
	var hi uint16
	for _, v := range vs {
		if !isGREASE(v) && v > hi {
			hi = v
		}
	}
	switch hi {
	case tls.VersionTLS13:
		return "13"
	case tls.VersionTLS12:
		return "12"
	case tls.VersionTLS11:
		return "11"
	case tls.VersionTLS10:
		return "10"
	case 0x0300:
		return "s3"
	}
	return "00"
}

func appendCount(b []byte, n int) []byte {
	n = min(n, 99)
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

func appendALPN(b []byte, protos []string) []byte {
	if len(protos) == 0 || protos[0] == "" {
		return append(b, '0', '0')
	}
	p := protos[0]
	first, last := p[0], p[len(p)-1]
	if isAlnum(first) && isAlnum(last) {
		return append(b, first, last)
	}
	const digits = "0123456789abcdef"
	return append(b, digits[first>>4], digits[last&0xf])
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// isGREASE reports whether v is one of RFC 8701's reserved values
// 0x0a0a, 0x1a1a, ... 0xfafa, which clients send at random.
func isGREASE(v uint16) bool {
	return v&0x0f0f == 0x0a0a && v>>8 == v&0xff
}

func countNonGREASE(vs []uint16) int {
	n := 0
	for _, v := range vs {
		if !isGREASE(v) {
			n++
		}
	}
	return n
}

// sortedWithout returns vs without GREASE and without the values in skip,
// sorted, in buf when it fits.
func sortedWithout(buf []uint16, vs []uint16, skip ...uint16) []uint16 {
	out := buf[:0]
	for _, v := range vs {
		if !isGREASE(v) && !slices.Contains(skip, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// hashCiphers returns the SHA-256 of the sorted cipher list, nil if empty.
func hashCiphers(cs []uint16) hash.Hash {
	var buf [maxHelloList]uint16
	list := sortedWithout(buf[:], cs)
	if len(list) == 0 {
		return nil
	}
	d := sha256.New()
	writeHexList(d, list)
	return d
}

// hashExtensions returns the SHA-256 of the sorted extensions (SNI and
// ALPN left out) and the signature schemes, nil if both are empty.
func hashExtensions(exts []uint16, schemes []tls.SignatureScheme) hash.Hash {
	var buf [maxHelloList]uint16
	list := sortedWithout(buf[:], exts, extServerName, extALPN)
	if len(list) == 0 {
		return nil
	}
	d := sha256.New()
	writeHexList(d, list)
	var sbuf [maxHelloList]uint16
	algs := sbuf[:0]
	for _, s := range schemes {
		if !isGREASE(uint16(s)) {
			algs = append(algs, uint16(s))
		}
	}
	if len(algs) > 0 {
		d.Write([]byte{'_'})
		writeHexList(d, algs)
	}
	return d
}

// writeHexList writes vs as 4-digit lowercase hex, comma-separated.
func writeHexList(d hash.Hash, vs []uint16) {
	var item [5]byte
	for i, v := range vs {
		item[0] = ','
		hex.Encode(item[1:], []byte{byte(v >> 8), byte(v)})
		if i == 0 {
			d.Write(item[1:])
		} else {
			d.Write(item[:])
		}
	}
}

func appendHash12(b []byte, d hash.Hash) []byte {
	if d == nil {
		return append(b, "000000000000"...)
	}
	var sum [sha256.Size]byte
	d.Sum(sum[:0])
	return hex.AppendEncode(b, sum[:6])
}
