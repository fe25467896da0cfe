package synth

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// segmentCacheBytes bounds the memory of generated segments, which padding
// (Options.SegmentBytes) can make large.
const segmentCacheBytes = 256 << 20

// live is the live channel: the loop replayed on a wall clock whose epoch is
// the Unix epoch, so media sequence numbers keep rising across restarts.
type live struct {
	loop   *loop
	d      int // segment duration, seconds
	window int
	pad    int
	now    func() time.Time
	cache  *segmentCache
	master []byte
	tag    string // ETag prefix: changes with the assets, d and pad
}

// newLive prepares the live channel for opts (defaults already filled).
func newLive(l *loop, opts Options) *live {
	lv := &live{
		loop:   l,
		d:      int(opts.SegmentDuration / time.Second),
		window: opts.Window,
		pad:    opts.SegmentBytes,
		now:    opts.Now,
		// Room for the window plus the grace segments of every rendition.
		cache: newSegmentCache(len(l.renditions)*(opts.Window+3), segmentCacheBytes),
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%d/", lv.d, lv.pad)
	for _, r := range l.renditions {
		for _, c := range r.chunks {
			h.Write(c)
		}
	}
	lv.tag = fmt.Sprintf("%x", h.Sum64())
	lv.master = lv.buildMaster()
	return lv
}

// edge returns the newest media sequence number at now: floor(now/d).
func (lv *live) edge(now time.Time) int64 {
	step := int64(lv.d) * int64(time.Second)
	ns := now.UnixNano()
	n := ns / step
	if ns%step < 0 {
		n--
	}
	return n
}

// segmentTime returns the program date-time at which segment seq starts.
func (lv *live) segmentTime(seq int64) time.Time {
	return time.Unix(seq*int64(lv.d), 0).UTC()
}

// bandwidth returns the peak and average bit rate of r's segments, measured
// over every position a segment can start at in the loop, padding included.
func (lv *live) bandwidth(r *rendition) (peak, avg int) {
	n := len(r.chunks)
	total, count := 0, 0
	for k := 0; k < n; k += gcd(lv.d, n) {
		size := 0
		for i := range lv.d {
			size += len(r.chunks[(k+i)%n])
		}
		if size < lv.pad {
			size += (lv.pad - size + tsPacketSize - 1) / tsPacketSize * tsPacketSize
		}
		bps := (size*8 + lv.d - 1) / lv.d
		peak = max(peak, bps)
		total += bps
		count++
	}
	return peak, total / count
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// buildMaster renders the multivariant playlist.
func (lv *live) buildMaster() []byte {
	var b bytes.Buffer
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n")
	for _, r := range lv.loop.renditions {
		peak, avg := lv.bandwidth(r)
		fmt.Fprintf(&b, "#EXT-X-STREAM-INF:BANDWIDTH=%d,AVERAGE-BANDWIDTH=%d,RESOLUTION=%dx%d,CODECS=\"%s\",FRAME-RATE=%d.000\n%s/index.m3u8\n",
			peak, avg, r.width, r.height, r.codecs, lv.loop.frameRate, r.name)
	}
	return b.Bytes()
}

// mediaPlaylist renders r's playlist at now: the window ending at the edge.
func (lv *live) mediaPlaylist(r *rendition, now time.Time) []byte {
	last := lv.edge(now)
	first := last - int64(lv.window) + 1
	var b bytes.Buffer
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:%d\n", lv.d, first)
	fmt.Fprintf(&b, "#EXT-X-PROGRAM-DATE-TIME:%s\n", lv.segmentTime(first).Format("2006-01-02T15:04:05.000Z"))
	for seq := first; seq <= last; seq++ {
		fmt.Fprintf(&b, "#EXTINF:%d.000,\n%d.ts\n", lv.d, seq)
	}
	return b.Bytes()
}

// servable reports whether seq may be fetched at now: listed in the window,
// or just dropped from it (two segments of grace for slow clients).
func (lv *live) servable(seq int64, now time.Time) bool {
	last := lv.edge(now)
	return seq >= last-int64(lv.window)-2 && seq <= last
}

// segment returns segment seq of rendition ri, from the cache or built.
func (lv *live) segment(ri int, seq int64) (data []byte, cached bool) {
	key := segmentKey{ri, seq}
	if data, ok := lv.cache.get(key); ok {
		return data, true
	}
	data = lv.loop.renditions[ri].buildSegment(seq, lv.d, lv.pad)
	lv.cache.add(key, data)
	return data, false
}

// parseSeq parses "<seq>.ts" with seq a canonical non-negative decimal.
func parseSeq(name string) (int64, bool) {
	digits, ok := strings.CutSuffix(name, ".ts")
	if !ok || digits == "" || len(digits) > 18 {
		return 0, false
	}
	seq, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || seq < 0 || strconv.FormatInt(seq, 10) != digits {
		return 0, false
	}
	return seq, true
}

// playlistMaxAge is how long a media playlist may be cached: half a segment,
// at least a second.
func (lv *live) playlistMaxAge() string {
	return "max-age=" + strconv.Itoa(max(1, lv.d/2))
}

// writePlaylist sends an HLS playlist body.
func writePlaylist(w http.ResponseWriter, body []byte, cacheControl string) {
	h := w.Header()
	h.Set("Content-Type", "application/vnd.apple.mpegurl")
	h.Set("Cache-Control", cacheControl)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}
