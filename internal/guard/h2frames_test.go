package guard

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// frame is one HTTP/2 frame with a payload of n zero bytes.
func frame(typ byte, stream uint32, n int) []byte {
	b := make([]byte, frameHeaderLen+n)
	b[0], b[1], b[2] = byte(n>>16), byte(n>>8), byte(n)
	b[3] = typ
	binary.BigEndian.PutUint32(b[5:], stream&0x7fffffff)
	return b
}

// countResets scans b in chunks of size step with no budget and returns
// the RST_STREAM frames seen and whether the connection was taken as
// HTTP/2.
func countResets(b []byte, step int) (int64, bool) {
	var stats ConnStats
	c := &frameConn{stats: &stats}
	for len(b) > 0 {
		n := min(step, len(b))
		c.scan(b[:n])
		b = b[n:]
	}
	return stats.StreamsReset.Load(), !c.plain && c.matched == len(clientPreface)
}

// TestFrameScan: RST_STREAM frames are counted however the bytes are
// split across reads, payloads that look like frame headers are skipped,
// and a connection that is not HTTP/2 is passed through.
func TestFrameScan(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(clientPreface)
	b.Write(frame(0x4, 0, 0)) // SETTINGS
	for i := range 20 {
		b.Write(frame(0x1, uint32(2*i+1), 30)) // HEADERS
		b.Write(frame(frameRSTStream, uint32(2*i+1), 4))
	}
	// A DATA frame whose payload is made of RST_STREAM frames.
	inner := bytes.Repeat(frame(frameRSTStream, 1, 4), 10)
	data := frame(0x0, 1, len(inner))
	copy(data[frameHeaderLen:], inner)
	b.Write(data)
	for _, step := range []int{1, 2, 7, 9, 13, 4096} {
		if n, h2 := countResets(b.Bytes(), step); n != 20 || !h2 {
			t.Fatalf("reads of %d bytes: %d resets (HTTP/2 %v), want 20", step, n, h2)
		}
	}
	http1 := append([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), frame(frameRSTStream, 1, 4)...)
	if n, h2 := countResets(http1, 5); n != 0 || h2 {
		t.Fatalf("HTTP/1: %d resets (HTTP/2 %v), want 0 and pass-through", n, h2)
	}
}

// FuzzFrameScan: any bytes, however split, scan without a panic and to
// the same count.
func FuzzFrameScan(f *testing.F) {
	f.Add([]byte(clientPreface+string(frame(frameRSTStream, 1, 4))), 3)
	f.Add([]byte(clientPreface+"\xff\xff\xff\x03"), 1)
	f.Add([]byte("PRI * HTTP/1.1"), 2)
	f.Fuzz(func(t *testing.T, b []byte, step int) {
		if step <= 0 || step > len(b)+1 {
			step = len(b) + 1
		}
		whole, h2 := countResets(b, len(b)+1)
		split, h2s := countResets(b, step)
		if whole != split || h2 != h2s {
			t.Fatalf("in one read: %d resets (HTTP/2 %v); in reads of %d: %d (%v)", whole, h2, step, split, h2s)
		}
	})
}

// BenchmarkFrameScan is the cost of watching a connection: scanning what
// one read returns, HEADERS and RST_STREAM pairs (the rapid-reset worst
// case: the most frames per byte).
func BenchmarkFrameScan(b *testing.B) {
	var buf bytes.Buffer
	for i := range 200 {
		buf.Write(frame(0x1, uint32(2*i+1), 30))
		buf.Write(frame(frameRSTStream, uint32(2*i+1), 4))
	}
	p := buf.Bytes()
	var stats ConnStats
	c := &frameConn{stats: &stats, matched: len(clientPreface)}
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		c.scan(p)
	}
}
