package viewer

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rempart/rempart/internal/siege/sim"
)

// ondemand is the "ondemand-listener" model: a music app playing tracks by
// Range requests. Parameters (sim.Params):
//
//	tracks     track paths, default /ondemand/track1.wav, track2.wav, track3.wav
//	catalog    when set (e.g. /api/catalog), the track list is read from
//	           this JSON ({"tracks":[{"url":...}]}) instead of tracks
//	chunk      bytes per Range request, default 262144 (256 KiB)
//	ahead      chunks kept buffered ahead of the playhead, default 2
//	skip       probability of skipping a track part way, default 0.2
//	byte_rate  bytes/s of a track that is not WAV, default 16000 (128 kbit/s)
//	watch      how long the listener stays; default until the phase ends
//	timeout    per request, default 20s
type ondemand struct{}

var _ sim.Model = ondemand{}

// wavHeaderKeep is how much of a track's first chunk is read for its
// format; the rest of every chunk is counted and dropped.
const wavHeaderKeep = 4 << 10

// maxCatalog bounds the catalog document a listener reads.
const maxCatalog = 1 << 20

var defaultTracks = []string{"/ondemand/track1.wav", "/ondemand/track2.wav", "/ondemand/track3.wav"}

// listener is one person listening to tracks.
type listener struct {
	*viewer
	po      playout
	chunk   int64
	ahead   int
	skip    float64
	rate    float64   // default byte rate
	lastAdd time.Time // when media last reached the buffer
}

// track is the track being played.
type track struct {
	u       *url.URL
	off     int64         // next byte to fetch
	size    int64         // total bytes; -1 until known
	rate    float64       // bytes/s of audio
	dataOff int64         // where audio starts
	media   time.Duration // media fetched so far
	done    bool          // nothing more to fetch
	skipAt  time.Duration // media position the listener skips at; -1: never
}

// Run plays tracks one after another until ctx ends or the budget is spent.
func (ondemand) Run(ctx context.Context, env *sim.Env, c sim.Client) {
	l := &listener{viewer: newViewer(env, c)}
	p := l.p
	l.chunk = max(int64(p.Int("chunk", 256<<10)), 1024)
	l.ahead = max(p.Int("ahead", 2), 1)
	l.skip = p.Float("skip", 0.2)
	l.rate = max(p.Float("byte_rate", 16000), 1)
	joined := c.Intended
	if joined.IsZero() {
		joined = l.now()
	}
	l.po = playout{v: l.viewer, joined: joined, at: joined, startNeed: 1, resumeNeed: durationParam(p, "rebuffer", 2*time.Second)}
	if d := durationParam(p, "watch", 0); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	l.setBase(sim.StateStarting)
	if tracks := l.trackList(ctx, joined); len(tracks) > 0 {
		for i := rand.IntN(len(tracks)); l.playTrack(ctx, tracks[i]); i = (i + 1) % len(tracks) {
		}
	}
	l.end(l.po.summary(l.now()))
}

// trackList returns the tracks to play, from the parameters or the catalog.
func (l *listener) trackList(ctx context.Context, intended time.Time) []*url.URL {
	paths := l.p.Strings("tracks", defaultTracks)
	if cat := l.p.String("catalog", ""); cat != "" {
		paths = l.catalog(ctx, cat, intended)
	}
	var out []*url.URL
	for _, p := range paths {
		if u, err := targetURL(l.env, p); err == nil {
			out = append(out, u)
		}
	}
	return out
}

// catalog reads the track URLs of the catalog at path.
func (l *listener) catalog(ctx context.Context, path string, intended time.Time) []string {
	u, err := targetURL(l.env, path)
	if err != nil {
		l.errors++
		return nil
	}
	res, err := l.fetch(ctx, &request{kind: sim.KindAPI, url: u, intended: intended, keep: maxCatalog})
	var cat struct {
		Tracks []struct{ URL string } `json:"tracks"`
	}
	if err == nil {
		err = json.Unmarshal(res.body, &cat)
	}
	if err != nil {
		if ctx.Err() == nil && !errors.Is(err, ErrBudget) {
			l.errors++
		}
		return nil
	}
	var out []string
	for _, t := range cat.Tracks {
		out = append(out, t.URL)
	}
	return out
}

// playTrack plays u to its end or to the listener's skip; false means the
// listener's life is over.
func (l *listener) playTrack(ctx context.Context, u *url.URL) bool {
	t := &track{u: u, size: -1, rate: l.rate, skipAt: -1}
	l.po.seek(l.now()) // changing track empties the buffer; the wait is not a stall
	for ctx.Err() == nil {
		now := l.now()
		l.po.advance(now)
		played := t.media - l.po.buffered
		if t.skipAt >= 0 && played >= t.skipAt {
			return true
		}
		threshold := time.Duration(float64(l.ahead) * float64(l.chunk) / t.rate * float64(time.Second))
		if !t.done && (l.po.buffered < threshold || !l.po.playing()) {
			if err := l.fetchChunk(ctx, t, l.neededAt(now, threshold)); err != nil && l.stopped(ctx, err) {
				return false
			}
			continue
		}
		dry, playing := l.po.dryAt()
		if !playing { // nothing fetched and nothing to fetch: a broken track
			return l.sleep(ctx, time.Second)
		}
		wake := dry
		if !t.done {
			wake = dry.Add(-threshold) // when the buffer falls below the threshold
		}
		if t.skipAt >= 0 {
			wake = earlier(wake, now.Add(t.skipAt-played))
		}
		if !l.sleepUntil(ctx, later(wake, now.Add(time.Millisecond))) {
			return false
		}
		if t.done && !l.now().Before(dry) {
			return true // the track ended
		}
	}
	return false
}

// neededAt is when the next chunk was needed: when the buffer fell below
// the threshold, but not before the last chunk arrived.
func (l *listener) neededAt(now time.Time, threshold time.Duration) time.Time {
	if !l.po.playing() {
		return later(l.lastAdd, l.po.at)
	}
	return later(l.lastAdd, now.Add(l.po.buffered-threshold))
}

// fetchChunk fetches the next chunk of t (retried once; a chunk that still
// fails ends the track) and feeds the buffer.
func (l *listener) fetchChunk(ctx context.Context, t *track, intended time.Time) error {
	end := t.off + l.chunk - 1
	if t.size >= 0 {
		end = min(end, t.size-1)
	}
	keep := 0
	if t.off == 0 {
		keep = wavHeaderKeep
	}
	r := &request{kind: sim.KindOnDemand, url: t.u, intended: intended, keep: keep,
		byteRange: "bytes=" + strconv.FormatInt(t.off, 10) + "-" + strconv.FormatInt(end, 10)}
	var res response
	var err error
	for range 2 {
		if res, err = l.fetch(ctx, r); err == nil || l.stopped(ctx, err) {
			break
		}
		r.intended = l.now()
	}
	if err != nil {
		t.done = true
		if ctx.Err() == nil && !errors.Is(err, ErrBudget) {
			l.errors++
		}
		return err
	}
	l.useChunk(t, res)
	return nil
}

// useChunk accounts for the bytes of one answer.
func (l *listener) useChunk(t *track, res response) {
	if t.off == 0 {
		if rate, dataOff, ok := wavFormat(res.body); ok {
			t.rate, t.dataOff = rate, dataOff
		}
	}
	start := t.off
	if res.status == 206 {
		t.size = contentRangeSize(res.header.Get("Content-Range"))
	} else { // the whole file
		start, t.size = 0, res.n
	}
	got := res.n
	audio := max(start+got-max(start, t.dataOff), 0)
	media := time.Duration(float64(audio) / t.rate * float64(time.Second))
	if t.off == 0 && t.size > 0 && rand.Float64() < l.skip {
		total := time.Duration(float64(t.size-t.dataOff) / t.rate * float64(time.Second))
		t.skipAt = time.Duration(rand.Float64() * float64(total))
	}
	t.off = start + got
	t.media += media
	t.done = got == 0 || (t.size >= 0 && t.off >= t.size)
	l.lastAdd = l.now()
	l.po.add(l.lastAdd, media, t.rate*8)
}

// contentRangeSize returns the total of "bytes a-b/total", or -1.
func contentRangeSize(v string) int64 {
	_, total, ok := strings.Cut(v, "/")
	n, err := strconv.ParseInt(total, 10, 64)
	if !ok || err != nil || n < 0 {
		return -1
	}
	return n
}

// wavFormat reads the byte rate and the offset of the audio from a RIFF
// WAVE header.
func wavFormat(b []byte) (rate float64, dataOff int64, ok bool) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return 0, 0, false
	}
	for off := 12; off+8 <= len(b); {
		size := int(binary.LittleEndian.Uint32(b[off+4:]))
		switch string(b[off : off+4]) {
		case "fmt ":
			if off+20 <= len(b) {
				rate = float64(binary.LittleEndian.Uint32(b[off+16:]))
			}
		case "data":
			return rate, int64(off + 8), rate > 0
		}
		off += 8 + size + size&1
	}
	return 0, 0, false
}
