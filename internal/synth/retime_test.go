package synth

import (
	"fmt"
	"testing"
	"time"
)

func TestTimestampRoundTrip(t *testing.T) {
	for _, ts := range []int64{0, 1, 90000, 1<<32 + 12345, tsClock - 1, tsClock + 5, -1} {
		pes := []byte{0x21, 0, 1, 0, 1} // '0010' prefix and marker bits
		writeTimestamp(pes, ts)
		if got := readTimestamp(pes); got != wrap33(ts) {
			t.Errorf("PTS %d: read back %d, want %d", ts, got, wrap33(ts))
		}
		if pes[0]&0xf1 != 0x21 || pes[2]&1 != 1 || pes[4]&1 != 1 {
			t.Errorf("PTS %d: prefix or marker bits lost: % x", ts, pes)
		}
		pcr := []byte{0, 0, 0, 0, 0x7f, 0x42} // reserved bits, extension 0x142
		writePCRBase(pcr, ts)
		if got := readPCRBase(pcr); got != wrap33(ts) {
			t.Errorf("PCR %d: read back %d", ts, got)
		}
		if pcr[4]&0x7f != 0x7f || pcr[5] != 0x42 {
			t.Errorf("PCR %d: reserved bits or extension lost: % x", ts, pcr)
		}
	}
}

// TestSegmentsContinuous checks, for several D, the segments on both sides
// of the loop point: first video PTS and first PCR advance by exactly
// D·90000, PCRs rise within a segment, and continuity counters run on
// without a gap inside and across segments.
func TestSegmentsContinuous(t *testing.T) {
	l, err := loadLoop(assetFS)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []int{1, 2, 3, 5, 10} {
		t.Run(fmt.Sprintf("D=%d", d), func(t *testing.T) {
			r := l.renditions[0]
			// Start two segments before a loop point, go four past it.
			first := (testEpoch.Unix() - 2*int64(d)) / int64(d)
			var prev []byte
			cc := map[uint16]int{}
			for seq := first; seq < first+6; seq++ {
				seg := r.buildSegment(seq, d, 0)
				if err := checkTS(seg); err != nil {
					t.Fatalf("segment %d: %v", seq, err)
				}
				want := wrap33(r.start + seq*int64(d)*90000)
				if got := firstVideoPTS(t, seg); got != want {
					t.Errorf("segment %d: first video PTS %d, want %d", seq, got, want)
				}
				if prev != nil {
					if diff := wrap33(pcrs(seg)[0] - pcrs(prev)[0]); diff != int64(d)*90000 {
						t.Errorf("segment %d: first PCR moved %d from the last segment, want %d", seq, diff, d*90000)
					}
				}
				checkPCRRising(t, seq, seg)
				checkCC(t, seq, seg, cc)
				prev = seg
			}
		})
	}
}

func checkPCRRising(t *testing.T, seq int64, seg []byte) {
	t.Helper()
	ps := pcrs(seg)
	if len(ps) == 0 {
		t.Fatalf("segment %d: no PCR", seq)
	}
	for i := 1; i < len(ps); i++ {
		if step := wrap33(ps[i] - ps[i-1]); step <= 0 || step > 90000 {
			t.Errorf("segment %d: PCR %d → %d, step %d", seq, ps[i-1], ps[i], step)
		}
	}
}

// checkCC verifies counters continue from next (per PID, updated in place).
func checkCC(t *testing.T, seq int64, seg []byte, next map[uint16]int) {
	t.Helper()
	packets(seg, func(p tsPacket) {
		if p.pid() == nullPID || !p.hasData() {
			return
		}
		cc := int(p[3] & 0x0f)
		if want, ok := next[p.pid()]; ok && cc != want {
			t.Errorf("segment %d PID %#x: continuity counter %d, want %d", seq, p.pid(), cc, want)
		}
		next[p.pid()] = (cc + 1) % 16
	})
}

func TestSegmentPadding(t *testing.T) {
	l, err := loadLoop(assetFS)
	if err != nil {
		t.Fatal(err)
	}
	r := l.renditions[0]
	plain := r.buildSegment(100, 2, 0)
	for _, pad := range []int{0, 1000, len(plain), len(plain) + 1, 1 << 20} {
		seg := r.buildSegment(100, 2, pad)
		want := len(plain)
		for want < pad {
			want += tsPacketSize
		}
		if len(seg) != want {
			t.Errorf("pad %d: got %d bytes, want %d", pad, len(seg), want)
		}
		if err := checkTS(seg); err != nil {
			t.Errorf("pad %d: %v", pad, err)
		}
	}
}

func TestSegmentCacheBounded(t *testing.T) {
	c := newSegmentCache(3, 1000)
	for i := range 10 {
		c.add(segmentKey{0, int64(i)}, []byte{byte(i)})
	}
	if c.len() != 3 {
		t.Fatalf("cache holds %d, want 3", c.len())
	}
	big := make([]byte, 600)
	c.add(segmentKey{1, 1}, big)
	c.add(segmentKey{1, 2}, big)
	if c.len() != 1 {
		t.Fatalf("cache holds %d after 1200 bytes over a 1000-byte bound, want 1", c.len())
	}
	if _, ok := c.get(segmentKey{1, 2}); !ok {
		t.Fatal("newest segment evicted")
	}
	c.add(segmentKey{0, 9}, []byte{9})
	if _, ok := c.get(segmentKey{0, 6}); ok {
		t.Error("segment 6 should have been evicted")
	}
	if d, ok := c.get(segmentKey{0, 9}); !ok || d[0] != 9 {
		t.Error("segment 9 missing")
	}
}

func TestEdgeFloors(t *testing.T) {
	lv := &live{d: 2}
	for _, tc := range []struct {
		t    time.Time
		want int64
	}{
		{time.Unix(0, 0), 0},
		{time.Unix(1, 999), 0},
		{time.Unix(2, 0), 1},
		{time.Unix(-1, 0), -1},
	} {
		if got := lv.edge(tc.t); got != tc.want {
			t.Errorf("edge(%v) = %d, want %d", tc.t.Unix(), got, tc.want)
		}
	}
}

func FuzzRetime(f *testing.F) {
	l, err := loadLoop(assetFS)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(l.renditions[0].chunks[0][:10*tsPacketSize], int64(90000))
	f.Fuzz(func(t *testing.T, data []byte, shift int64) {
		if checkTS(data) != nil {
			return
		}
		retime(data, shift, map[uint16]uint8{}) // must not panic
		firstPES(data, 0xE0)
	})
}
