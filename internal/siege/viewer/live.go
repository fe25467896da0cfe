package viewer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/rempart/rempart/internal/hls"
	"github.com/rempart/rempart/internal/siege/sim"
)

// live is the "live-viewer" model. Parameters (sim.Params):
//
//	master          master playlist path, default /live/master.m3u8
//	join_behind     segments behind the live edge to join at, default 3
//	startup_buffer  segments buffered before the first picture, default 1
//	rebuffer        media buffered to resume after a stall ("2s" or
//	                seconds), default one target duration
//	max_buffer      media buffered ahead at most, default 30s
//	abr_safety      share of the measured throughput a rendition may use, default 0.8
//	max_bandwidth   highest BANDWIDTH the player may pick, bits/s; 0: no cap
//	watch           how long the viewer stays, from its arrival; default
//	                until the run (or the population's lifetime) ends
//	watch_admitted  how long the viewer watches once admitted (from the
//	                admitting answer), so that its place frees; default no limit
//	watch_admitted_spread  0 to 1: the time watched is drawn uniformly in
//	                watch_admitted × [1−s, 1+s]; default 0 (all the same)
//	patience        how long the viewer waits in a waiting room before it
//	                gives up and leaves; default no limit
//	timeout         per request, default 20s
//
// A media playlist answered with a redirect (an edge degrading the stream
// moves a dropped rendition's players down) is followed, and the rendition
// actually received becomes the one playing: its bitrate is the one
// reported. The player then does not climb back above it for
// redirectHold.
type live struct{}

var _ sim.Model = live{}

// Player limits.
const (
	masterAttempts = 4 // master playlist tries before the player gives up
	listedMemory   = 8 // playlist loads remembered to date segment needs
	// redirectHold is how long a player redirected down a rendition stays
	// at or below the rendition it landed on (an edge's degradation level
	// changes at most every few seconds; climbing back at once would cost
	// a redirect per playlist load).
	redirectHold = 20 * time.Second
	// maxTags bounds the renditions whose played time a viewer tells apart.
	maxTags = 16
)

// liveViewer is one person watching the live channel.
type liveViewer struct {
	*viewer
	po           playout
	joinBehind   int
	maxBuffer    time.Duration
	safety       float64
	maxBandwidth int64
	rebuffer     time.Duration

	masterURL  *url.URL
	variants   []*hls.Variant // ascending BANDWIDTH
	cur        int            // variant playing
	mediaURL   *url.URL
	pl         *hls.Media // last media playlist; nil before the first or after a switch
	nextReload time.Time
	lastDone   time.Time // when the last segment download ended
	nextSeq    int64
	positioned bool
	listed     []listing // when the newest sequence numbers were first listed
	est        throughput
	switches   int

	offList      bool      // playing a rendition the master did not list (reached by a redirect)
	ceiling      int       // highest variant the ABR may pick until ceilingUntil
	ceilingUntil time.Time // set by a redirect
	tags         []string  // renditions played, by playout tag: their media playlist paths
}

// listing says that the segments up to last were listed at at.
type listing struct {
	last int64
	at   time.Time
}

// Run plays the live channel until ctx ends, the watch time is over, the
// budget is spent or the stream fails for good.
func (live) Run(parent context.Context, env *sim.Env, c sim.Client) {
	lv := newLiveViewer(env, c)
	ctx, release := lv.bound(parent)
	defer release()
	lv.setBase(sim.StateStarting)
	if lv.loadMaster(ctx) {
		lv.play(ctx)
	}
	now := lv.now()
	s := lv.po.summary(now)
	s.Switches = lv.switches
	s.Admission = lv.admissionRecord(parent, now)
	s.Admission.Played = lv.played()
	lv.end(s)
}

// played returns the media time played per rendition.
func (lv *liveViewer) played() []sim.Played {
	var out []sim.Played
	for i, tp := range lv.po.byTag {
		if tp.d > 0 && i < len(lv.tags) {
			out = append(out, sim.Played{Rendition: lv.tags[i], Bandwidth: tp.bitSeconds / tp.d.Seconds(), Time: tp.d})
		}
	}
	return out
}

// tag returns the playout tag of the rendition playing now.
func (lv *liveViewer) tag() int {
	p := lv.mediaURL.Path
	for i, t := range lv.tags {
		if t == p {
			return i
		}
	}
	if len(lv.tags) == maxTags {
		return maxTags - 1
	}
	lv.tags = append(lv.tags, p)
	return len(lv.tags) - 1
}

func newLiveViewer(env *sim.Env, c sim.Client) *liveViewer {
	lv := &liveViewer{viewer: newViewer(env, c)}
	p := lv.p
	lv.joinBehind = max(p.Int("join_behind", 3), 1)
	lv.maxBuffer = durationParam(p, "max_buffer", 30*time.Second)
	lv.safety = p.Float("abr_safety", 0.8)
	lv.maxBandwidth = int64(p.Float("max_bandwidth", 0))
	lv.rebuffer = durationParam(p, "rebuffer", 0)
	joined := c.Intended
	if joined.IsZero() {
		joined = lv.now()
	}
	lv.po = playout{v: lv.viewer, joined: joined, at: joined, startNeed: max(p.Int("startup_buffer", 1), 1)}
	return lv
}

// loadMaster fetches and parses the master playlist, retrying with a
// backoff as players do; false means the viewer gives up.
func (lv *liveViewer) loadMaster(ctx context.Context) bool {
	u, err := targetURL(lv.env, lv.p.String("master", "/live/master.m3u8"))
	if err != nil {
		lv.errors++
		return false
	}
	lv.masterURL = u
	intended := lv.po.joined
	for attempt := range masterAttempts {
		var res response
		res, err = lv.fetch(ctx, &request{kind: sim.KindMaster, url: u, intended: intended, keep: hls.MaxSize + 1})
		if err == nil {
			if err = lv.useMaster(res.body); err != nil {
				lv.failures++
			}
		}
		if err == nil {
			return true
		}
		if errors.Is(err, ErrOffTarget) || hopeless(err) || lv.stopped(ctx, err) || !lv.sleep(ctx, time.Second<<attempt) {
			break
		}
		intended = lv.now()
	}
	if failed(ctx, err) {
		lv.errors++
	}
	return false
}

// useMaster keeps the variants (lowest first) and starts on the lowest.
func (lv *liveViewer) useMaster(body []byte) error {
	m, err := hls.ParseMaster(body)
	if err != nil {
		return err
	}
	vs := slices.SortedStableFunc(slices.Values(m.Variants), func(a, b *hls.Variant) int {
		return cmp.Compare(a.Bandwidth, b.Bandwidth)
	})
	if len(vs) == 0 {
		return errors.New("master playlist lists no variant")
	}
	if lv.maxBandwidth > 0 {
		capped := vs[:1] // the lowest stays, whatever the cap
		for _, v := range vs[1:] {
			if v.Bandwidth <= lv.maxBandwidth {
				capped = append(capped, v)
			}
		}
		vs = capped
	}
	u, err := lv.cl.resolve(lv.masterURL, vs[0].URI)
	if err != nil {
		return err
	}
	lv.variants, lv.cur, lv.mediaURL = vs, 0, u
	return nil
}

// play is the player's loop: reload the playlist when due, download the
// next segment when there is one and room for it, else wait.
func (lv *liveViewer) play(ctx context.Context) {
	for ctx.Err() == nil {
		now := lv.now()
		lv.po.advance(now)
		// One loader, as a player's: a known segment goes first, the
		// playlist is reloaded when due and nothing is left to fetch.
		seg := lv.nextSegment()
		if seg != nil && lv.po.buffered < lv.maxBuffer {
			if err := lv.download(ctx, seg); err != nil && lv.stopped(ctx, err) {
				return
			}
			continue
		}
		if !now.Before(lv.nextReload) {
			if err := lv.reload(ctx, now); err != nil && lv.stopped(ctx, err) {
				return
			}
			continue
		}
		if seg == nil && lv.pl != nil && lv.pl.EndList {
			lv.playOut(ctx)
			return
		}
		wake := lv.nextReload
		if t, ok := lv.po.dryAt(); ok && t.Before(wake) {
			wake = t // wake to report the stall when it starts
		}
		if !lv.sleepUntil(ctx, wake) {
			return
		}
	}
}

// reload fetches the media playlist and schedules the next reload (RFC
// 8216 §6.3.4): a target duration after this load began when the playlist
// changed, half of it when it did not or the load failed.
func (lv *liveViewer) reload(ctx context.Context, began time.Time) error {
	// Needed when due, or when the last download ended if that was later.
	intended := later(lv.nextReload, lv.lastDone)
	if lv.nextReload.IsZero() {
		intended = began
	}
	res, err := lv.fetch(ctx, &request{kind: sim.KindMedia, url: lv.mediaURL, intended: intended, keep: hls.MaxSize + 1})
	var pl *hls.Media
	if err == nil {
		if pl, err = hls.ParseMedia(res.body); err != nil {
			lv.failures++
			err = fmt.Errorf("media playlist: %w", err)
		}
	}
	if err != nil {
		if failed(ctx, err) {
			lv.errors++
		}
		lv.nextReload = began.Add(lv.targetDuration() / 2)
		return err
	}
	if res.url != lv.mediaURL {
		lv.moved(res.url)
	}
	changed := lv.pl == nil || lastSeq(pl) > lastSeq(lv.pl)
	lv.pl = pl
	lv.noteListed(pl, lv.now())
	lv.position(pl)
	switch {
	case pl.EndList:
		lv.nextReload = began.Add(24 * time.Hour) // nothing more will come
	case changed:
		lv.nextReload = began.Add(pl.TargetDuration)
	default:
		lv.nextReload = began.Add(pl.TargetDuration / 2)
	}
	return nil
}

// position places the viewer join_behind segments behind the live edge on
// the first playlist, and sets the rebuffer default.
func (lv *liveViewer) position(pl *hls.Media) {
	if lv.positioned {
		return
	}
	lv.positioned = true
	lv.nextSeq = max(pl.MediaSequence, lastSeq(pl)-int64(lv.joinBehind)+1)
	if lv.rebuffer <= 0 {
		lv.rebuffer = pl.TargetDuration
	}
	lv.po.resumeNeed = lv.rebuffer
}

func lastSeq(pl *hls.Media) int64 { return pl.MediaSequence + int64(len(pl.Segments)) - 1 }

func (lv *liveViewer) targetDuration() time.Duration {
	if lv.pl != nil {
		return lv.pl.TargetDuration
	}
	return 2 * time.Second // before the first playlist: reload soon
}

// noteListed remembers when the newest segments were first seen, to date
// when the player needed them.
func (lv *liveViewer) noteListed(pl *hls.Media, at time.Time) {
	last := lastSeq(pl)
	if n := len(lv.listed); n > 0 && lv.listed[n-1].last >= last {
		return
	}
	if len(lv.listed) == listedMemory {
		lv.listed = append(lv.listed[:0], lv.listed[1:]...)
	}
	lv.listed = append(lv.listed, listing{last, at})
}

// neededAt is when the player first knew of segment seq and wanted it.
func (lv *liveViewer) neededAt(seq int64) time.Time {
	for _, l := range lv.listed {
		if l.last >= seq {
			return l.at
		}
	}
	return lv.now()
}

// nextSegment returns the segment to download next, or nil when the
// playlist has none yet. A viewer that fell out of the window jumps back
// join_behind segments from the edge, as hls.js does.
func (lv *liveViewer) nextSegment() *hls.Segment {
	if lv.pl == nil || len(lv.pl.Segments) == 0 {
		return nil
	}
	first := lv.pl.Segments[0].Seq
	if lv.nextSeq < first {
		lv.nextSeq = max(first, lastSeq(lv.pl)-int64(lv.joinBehind)+1)
	}
	i := lv.nextSeq - first
	if i >= int64(len(lv.pl.Segments)) {
		return nil
	}
	return lv.pl.Segments[i]
}

// download fetches seg (retried once; then skipped and counted as an
// error), feeds the buffer and lets the ABR decide the next rendition.
func (lv *liveViewer) download(ctx context.Context, seg *hls.Segment) error {
	lv.nextSeq++
	u, err := lv.cl.resolve(lv.mediaURL, seg.URI)
	if err != nil {
		lv.errors++
		return err
	}
	intended := lv.neededAt(seg.Seq)
	var res response
	for range 2 {
		res, err = lv.fetch(ctx, &request{kind: sim.KindSegment, url: u, intended: intended})
		if err == nil || lv.stopped(ctx, err) {
			break
		}
		intended = lv.now()
	}
	if err != nil {
		if failed(ctx, err) {
			lv.errors++
		}
		return err
	}
	lv.lastDone = lv.now()
	if sc, ok := lv.env.Rec.(sim.SegmentCounter); ok {
		sc.Segment(lv.c.Pop, res.url.RequestURI())
	}
	lv.est.sample(res.n, res.took)
	lv.po.addAs(lv.now(), seg.Duration, lv.received(res.n, seg.Duration), lv.tag())
	lv.adapt()
	return nil
}

// received is the bitrate of the segment just received: its rendition's,
// or, for a rendition the master did not list, the segment's own.
func (lv *liveViewer) received(n int64, d time.Duration) float64 {
	if lv.offList && d > 0 {
		return float64(n*8) / d.Seconds()
	}
	return rate(lv.variants[lv.cur])
}

// moved follows a redirect of the media playlist to u: the rendition
// received is now the one playing, and the player stays at or below it
// for redirectHold.
func (lv *liveViewer) moved(u *url.URL) {
	from := lv.cur
	lv.mediaURL, lv.offList = u, true
	lv.ceiling = max(from-1, 0)
	for i, v := range lv.variants {
		if vu, err := lv.cl.resolve(lv.masterURL, v.URI); err == nil && vu.String() == u.String() {
			lv.cur, lv.offList, lv.ceiling = i, false, i
			break
		}
	}
	if lv.cur != from || lv.offList {
		lv.switches++
	}
	lv.ceilingUntil = lv.now().Add(redirectHold)
}

// adapt switches rendition, at this segment boundary, to the highest one
// the throughput allows; it does not step up while less than two segments
// are buffered.
func (lv *liveViewer) adapt() {
	want := choose(lv.variants, lv.est.estimate()*lv.safety)
	if lv.now().Before(lv.ceilingUntil) {
		want = min(want, lv.ceiling)
	} else if lv.offList {
		want = min(want, lv.cur) // back on a listed rendition, at most the one left
	}
	if (want == lv.cur && !lv.offList) || (want > lv.cur && lv.po.buffered < 2*lv.targetDuration()) {
		return
	}
	u, err := lv.cl.resolve(lv.masterURL, lv.variants[want].URI)
	if err != nil {
		return
	}
	lv.cur, lv.mediaURL, lv.offList = want, u, false
	lv.switches++
	lv.pl, lv.nextReload = nil, lv.now()
}

// playOut plays what is buffered once the stream has ended, then leaves.
func (lv *liveViewer) playOut(ctx context.Context) {
	if t, ok := lv.po.dryAt(); ok && lv.sleepUntil(ctx, t) {
		lv.po.seek(t)
	}
}
