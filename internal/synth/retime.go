package synth

// buildSegment returns live segment seq of r: chunks seq·d … seq·d+d−1 of
// the loop (mod its length), re-timed so that timestamps run on across the
// loop point, with continuity counters carried on from the segment before,
// padded with null packets to at least pad bytes.
//
// Chunk c of the endless stream is chunk k = c mod L of loop q = c div L;
// every PTS, DTS and PCR of it moves by q·L seconds, so segment seq starts at
// r.start + seq·d·90000 (mod 2^33).
func (r *rendition) buildSegment(seq int64, d, pad int) []byte {
	first := seq * int64(d)
	size := 0
	for i := range d {
		_, k := r.locate(first + int64(i))
		size += len(r.chunks[k])
	}
	out := make([]byte, 0, max(size, pad)+tsPacketSize)
	cc := r.counters(first)
	for i := range d {
		q, k := r.locate(first + int64(i))
		shift := q * int64(len(r.chunks)) * 90000
		from := len(out)
		out = append(out, r.chunks[k]...)
		retime(out[from:], shift, cc)
	}
	for len(out) < pad {
		out = append(out, nullPacket...)
	}
	return out
}

// locate splits stream chunk c into loop number q and chunk index k.
func (r *rendition) locate(c int64) (q int64, k int) {
	n := int64(len(r.chunks))
	q = c / n
	if c%n < 0 {
		q--
	}
	return q, int(c - q*n)
}

// counters returns, per PID, the continuity counter the first packet of
// stream chunk c carries: the number of payload packets before it, mod 16.
func (r *rendition) counters(c int64) map[uint16]uint8 {
	q, k := r.locate(c)
	loop := r.ccBefore[len(r.chunks)]
	out := make(map[uint16]uint8, len(loop))
	for pid, total := range loop {
		n := (q%16)*(total%16) + r.ccBefore[k][pid]
		out[pid] = uint8(((n % 16) + 16) % 16)
	}
	return out
}

// retime shifts every timestamp in the packets of data by shift (90 kHz)
// and renumbers continuity counters from cc, which it advances.
func retime(data []byte, shift int64, cc map[uint16]uint8) {
	for off := 0; off < len(data); off += tsPacketSize {
		p := tsPacket(data[off : off+tsPacketSize])
		pid := p.pid()
		if pid == nullPID {
			continue
		}
		if p.hasData() {
			p.setCC(cc[pid])
			cc[pid] = (cc[pid] + 1) & 0x0f
		} else {
			// A packet without payload repeats the previous counter.
			p.setCC(cc[pid] - 1)
		}
		if shift == 0 {
			continue
		}
		if o := p.pcrOffset(); o >= 0 {
			writePCRBase(p[o:], readPCRBase(p[o:])+shift)
		}
		pts, dts := p.pesTimestamps()
		if pts >= 0 {
			writeTimestamp(p[pts:], readTimestamp(p[pts:])+shift)
		}
		if dts >= 0 {
			writeTimestamp(p[dts:], readTimestamp(p[dts:])+shift)
		}
	}
}
