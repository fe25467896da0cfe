package synth

import (
	"errors"
	"fmt"
)

// MPEG-TS constants (ISO/IEC 13818-1).
const (
	tsPacketSize = 188
	tsSync       = 0x47
	nullPID      = 0x1FFF
	// tsClock is the 33-bit wrap of PTS, DTS and the PCR base (90 kHz units).
	tsClock = int64(1) << 33
)

// errBadTS reports a chunk that is not the MPEG-TS the loop was cut into.
var errBadTS = errors.New("malformed MPEG-TS")

// tsPacket is a view of one 188-byte transport packet; methods edit it in place.
type tsPacket []byte

func (p tsPacket) pid() uint16    { return uint16(p[1]&0x1f)<<8 | uint16(p[2]) }
func (p tsPacket) pusi() bool     { return p[1]&0x40 != 0 }
func (p tsPacket) hasAF() bool    { return p[3]&0x20 != 0 }
func (p tsPacket) hasData() bool  { return p[3]&0x10 != 0 }
func (p tsPacket) setCC(cc uint8) { p[3] = p[3]&0xf0 | cc&0x0f }

// payloadStart returns the offset of the payload, or -1 when the adaptation
// field claims more room than the packet has.
func (p tsPacket) payloadStart() int {
	if !p.hasAF() {
		return 4
	}
	start := 5 + int(p[4])
	if start > tsPacketSize {
		return -1
	}
	return start
}

// pcrOffset returns where the 6-byte PCR starts, or -1 when there is none.
func (p tsPacket) pcrOffset() int {
	if !p.hasAF() || p[4] < 7 || p[5]&0x10 == 0 {
		return -1
	}
	return 6
}

// pesTimestamps returns the offsets of the PTS and DTS fields of a PES header
// starting in this packet (-1 when absent).
func (p tsPacket) pesTimestamps() (pts, dts int) {
	pts, dts = -1, -1
	start := p.payloadStart()
	if !p.pusi() || !p.hasData() || start < 0 || start+14 > tsPacketSize {
		return pts, dts
	}
	pes := p[start:]
	if pes[0] != 0 || pes[1] != 0 || pes[2] != 1 || !pesHasHeader(pes[3]) {
		return pts, dts
	}
	flags := pes[7] >> 6
	if flags&2 != 0 {
		pts = start + 9
	}
	if flags == 3 && start+19 <= tsPacketSize {
		dts = start + 14
	}
	return pts, dts
}

// pesHasHeader reports whether a PES stream id carries the optional header
// (with PTS/DTS); padding and private stream 2 among others do not.
func pesHasHeader(streamID byte) bool {
	switch streamID {
	case 0xBC, 0xBE, 0xBF, 0xF0, 0xF1, 0xF2, 0xF8, 0xFF:
		return false
	}
	return true
}

// readTimestamp decodes a 5-byte PES timestamp.
func readTimestamp(b []byte) int64 {
	return int64(b[0]>>1&0x07)<<30 | int64(b[1])<<22 | int64(b[2]>>1)<<15 |
		int64(b[3])<<7 | int64(b[4]>>1)
}

// writeTimestamp encodes ts (mod 2^33) into a 5-byte PES timestamp, keeping
// the 4-bit prefix and the marker bits already there.
func writeTimestamp(b []byte, ts int64) {
	ts = wrap33(ts)
	b[0] = b[0]&0xf1 | byte(ts>>29)&0x0e
	b[1] = byte(ts >> 22)
	b[2] = byte(ts>>14)&0xfe | 1
	b[3] = byte(ts >> 7)
	b[4] = byte(ts<<1) | 1
}

// readPCRBase decodes the 33-bit base of a 6-byte PCR field.
func readPCRBase(b []byte) int64 {
	return int64(b[0])<<25 | int64(b[1])<<17 | int64(b[2])<<9 | int64(b[3])<<1 |
		int64(b[4]>>7)
}

// writePCRBase encodes base (mod 2^33) into a PCR field, keeping its
// reserved bits and 9-bit extension.
func writePCRBase(b []byte, base int64) {
	base = wrap33(base)
	b[0] = byte(base >> 25)
	b[1] = byte(base >> 17)
	b[2] = byte(base >> 9)
	b[3] = byte(base >> 1)
	b[4] = b[4]&0x7f | byte(base<<7)
}

// wrap33 reduces ts into [0, 2^33).
func wrap33(ts int64) int64 {
	ts %= tsClock
	if ts < 0 {
		ts += tsClock
	}
	return ts
}

// checkTS verifies that data is whole transport packets, each with its sync
// byte and a sane adaptation field.
func checkTS(data []byte) error {
	if len(data) == 0 || len(data)%tsPacketSize != 0 {
		return fmt.Errorf("%w: length %d is not a positive multiple of %d", errBadTS, len(data), tsPacketSize)
	}
	for off := 0; off < len(data); off += tsPacketSize {
		p := tsPacket(data[off : off+tsPacketSize])
		if p[0] != tsSync {
			return fmt.Errorf("%w: no sync byte at offset %d", errBadTS, off)
		}
		if p.payloadStart() < 0 {
			return fmt.Errorf("%w: adaptation field overflows packet at offset %d", errBadTS, off)
		}
	}
	return nil
}

// nullPacket is a stuffing packet (PID 0x1FFF) used to pad segments.
var nullPacket = func() []byte {
	p := make([]byte, tsPacketSize)
	p[0], p[1], p[2], p[3] = tsSync, 0x1f, 0xff, 0x10
	for i := 4; i < tsPacketSize; i++ {
		p[i] = 0xff
	}
	return p
}()
