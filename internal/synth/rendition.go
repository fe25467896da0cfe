package synth

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
)

// rendition is one quality of the loop: 1-second MPEG-TS chunks, each
// starting with a keyframe, and what re-timing needs to know about them.
type rendition struct {
	name          string
	width, height int
	codecs        string // RFC 6381 codecs of the actual stream
	chunks        [][]byte
	// start is the PTS of the first video frame of chunk 0.
	start int64
	// ccBefore[k][pid] counts payload-carrying packets of pid in chunks
	// before k; ccBefore[len(chunks)] is the whole loop. It lets a segment
	// continue continuity counters where the previous one stopped.
	ccBefore []map[uint16]int64
}

// load reads chunks dir/000.ts … and derives codecs, start and counters.
func (r *rendition) load(fsys fs.FS, dir string, n int) error {
	for k := range n {
		data, err := fs.ReadFile(fsys, path.Join(dir, fmt.Sprintf("%03d.ts", k)))
		if err != nil {
			return fmt.Errorf("read chunk: %w", err)
		}
		if err := checkTS(data); err != nil {
			return fmt.Errorf("chunk %d: %w", k, err)
		}
		r.chunks = append(r.chunks, data)
	}
	video := firstPES(r.chunks[0], 0xE0)
	audio := firstPES(r.chunks[0], 0xC0)
	if video == nil || audio == nil {
		return fmt.Errorf("chunk 0: %w: want video and audio PES", errBadTS)
	}
	var err error
	if r.start, err = pesPTS(video); err != nil {
		return fmt.Errorf("chunk 0 video: %w", err)
	}
	avc, err := avcCodec(pesPayload(video))
	if err != nil {
		return err
	}
	aac, err := aacCodec(pesPayload(audio))
	if err != nil {
		return err
	}
	r.codecs = avc + "," + aac
	r.countPackets()
	return nil
}

// countPackets fills ccBefore.
func (r *rendition) countPackets() {
	r.ccBefore = make([]map[uint16]int64, len(r.chunks)+1)
	acc := map[uint16]int64{}
	for k, c := range r.chunks {
		r.ccBefore[k] = clonePIDs(acc)
		for off := 0; off < len(c); off += tsPacketSize {
			p := tsPacket(c[off : off+tsPacketSize])
			if p.hasData() && p.pid() != nullPID {
				acc[p.pid()]++
			}
		}
	}
	r.ccBefore[len(r.chunks)] = acc
}

func clonePIDs(m map[uint16]int64) map[uint16]int64 {
	out := make(map[uint16]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// firstPES gathers the first PES whose stream id is in the 32-id group of
// group (0xE0 video, 0xC0 audio), up to the next PES start on its PID.
func firstPES(chunk []byte, group byte) []byte {
	var pes []byte
	var pid uint16
	for off := 0; off < len(chunk); off += tsPacketSize {
		p := tsPacket(chunk[off : off+tsPacketSize])
		start := p.payloadStart()
		if !p.hasData() || start < 0 || start >= tsPacketSize {
			continue
		}
		payload := p[start:]
		switch {
		case pes == nil && p.pusi() && len(payload) > 3 && bytes.HasPrefix(payload, []byte{0, 0, 1}) &&
			payload[3]&0xE0 == group:
			pid = p.pid()
			pes = append(pes, payload...)
		case pes != nil && p.pid() == pid && p.pusi():
			return pes
		case pes != nil && p.pid() == pid:
			pes = append(pes, payload...)
		}
	}
	return pes
}

// pesPTS returns the PTS of a PES packet.
func pesPTS(pes []byte) (int64, error) {
	if len(pes) < 14 || pes[7]&0x80 == 0 {
		return 0, fmt.Errorf("%w: PES without PTS", errBadTS)
	}
	return readTimestamp(pes[9:14]), nil
}

// pesPayload returns the elementary stream data of a PES packet.
func pesPayload(pes []byte) []byte {
	if len(pes) < 9 || len(pes) < 9+int(pes[8]) {
		return nil
	}
	return pes[9+int(pes[8]):]
}

// avcCodec returns "avc1.PPCCLL" from the first SPS in an Annex B stream.
func avcCodec(es []byte) (string, error) {
	for i := 0; i+6 < len(es); i++ {
		if es[i] == 0 && es[i+1] == 0 && es[i+2] == 1 && es[i+3]&0x1f == 7 {
			return fmt.Sprintf("avc1.%02x%02x%02x", es[i+4], es[i+5], es[i+6]), nil
		}
	}
	return "", fmt.Errorf("%w: no H.264 SPS in the first video PES", errBadTS)
}

// aacCodec returns "mp4a.40.N" from the first ADTS header.
func aacCodec(es []byte) (string, error) {
	if len(es) < 7 || es[0] != 0xFF || es[1]&0xF0 != 0xF0 {
		return "", fmt.Errorf("%w: no ADTS header in the first audio PES", errBadTS)
	}
	return fmt.Sprintf("mp4a.40.%d", es[2]>>6+1), nil
}
