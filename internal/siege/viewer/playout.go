package viewer

import (
	"math"
	"time"

	"github.com/rempart/rempart/internal/siege/sim"
)

// playout is a player's buffer in simulated real time: media is added as
// it is downloaded and drains at one second per second once the picture
// has started. It is evaluated lazily: advance(now) plays what was
// buffered between the last call and now, so a stall is placed at the
// exact instant the buffer ran dry even when the model noticed it later
// (durations are exact; the state gauge may lag by one request).
type playout struct {
	v          *viewer
	joined     time.Time     // when the viewer arrived (startup counts from here)
	startNeed  int           // chunks buffered before the first picture
	resumeNeed time.Duration // media buffered to resume after a stall

	started, stalled, seeking bool
	at                        time.Time     // when buffered was last evaluated
	buffered                  time.Duration // media ahead of the playhead at `at`
	queue                     []chunk       // the media in the buffer, oldest first

	startup    time.Duration
	stalls     int
	stallTime  time.Duration
	stallSince time.Time
	watched    time.Duration
	bitSeconds float64   // Σ bitrate × seconds played
	byTag      []tagPlay // played per tag (a model's rendition index), when tagged
}

// chunk is one downloaded piece of media in the buffer.
type chunk struct {
	d       time.Duration
	bitrate float64 // bits/s
	tag     int     // the model's label for where it came from (a rendition)
}

// tagPlay is what was played of one tag.
type tagPlay struct {
	d          time.Duration
	bitSeconds float64
}

// playing reports whether the playhead moves.
func (p *playout) playing() bool { return p.started && !p.stalled && !p.seeking }

// advance plays the media buffered between the last evaluation and now; a
// buffer that runs dry starts a stall at that instant.
func (p *playout) advance(now time.Time) {
	if !p.playing() || !now.After(p.at) {
		if now.After(p.at) {
			p.at = now
		}
		return
	}
	el := now.Sub(p.at)
	played := min(el, p.buffered)
	p.consume(played)
	if p.buffered == 0 {
		p.stalled, p.stallSince = true, p.at.Add(played)
		p.stalls++
		p.v.setBase(sim.StateStalled)
	}
	p.at = now
}

// consume moves the playhead d forward through the queued chunks.
func (p *playout) consume(d time.Duration) {
	p.buffered -= d
	p.watched += d
	for d > 0 && len(p.queue) > 0 {
		c := &p.queue[0]
		take := min(d, c.d)
		p.bitSeconds += take.Seconds() * c.bitrate
		if c.tag < len(p.byTag) {
			p.byTag[c.tag].d += take
			p.byTag[c.tag].bitSeconds += take.Seconds() * c.bitrate
		}
		c.d -= take
		d -= take
		if c.d == 0 {
			p.queue = append(p.queue[:0], p.queue[1:]...)
		}
	}
}

// add puts d of media at bitrate into the buffer at now, starting or
// resuming the picture when enough is buffered.
func (p *playout) add(now time.Time, d time.Duration, bitrate float64) {
	p.addAs(now, d, bitrate, 0)
}

// addAs is add for media labelled tag (≥ 0), whose played time is kept
// apart in byTag.
func (p *playout) addAs(now time.Time, d time.Duration, bitrate float64, tag int) {
	p.advance(now)
	for len(p.byTag) <= tag {
		p.byTag = append(p.byTag, tagPlay{})
	}
	p.queue = append(p.queue, chunk{d, bitrate, tag})
	p.buffered += d
	switch {
	case !p.started && len(p.queue) >= p.startNeed:
		p.started, p.startup = true, now.Sub(p.joined)
		p.v.setBase(sim.StatePlaying)
	case p.seeking && len(p.queue) >= p.startNeed:
		p.seeking = false
	case p.stalled && p.buffered >= p.resumeNeed:
		p.stalled = false
		p.stallTime += now.Sub(p.stallSince)
		p.v.setBase(sim.StatePlaying)
	}
}

// dryAt returns when the buffer will run dry if nothing is added.
func (p *playout) dryAt() (time.Time, bool) {
	if !p.playing() {
		return time.Time{}, false
	}
	return p.at.Add(p.buffered), true
}

// seek empties the buffer at now, as when the listener skips to another
// track: the wait for new media is not a stall.
func (p *playout) seek(now time.Time) {
	if p.playing() && now.After(p.at) {
		p.consume(min(now.Sub(p.at), p.buffered))
	}
	if p.stalled {
		p.stalled = false
		p.stallTime += now.Sub(p.stallSince)
		p.v.setBase(sim.StatePlaying)
	}
	p.at, p.buffered, p.queue = now, 0, p.queue[:0]
	p.seeking = p.started
}

// summary closes the books at now.
func (p *playout) summary(now time.Time) sim.ViewerSummary {
	p.advance(now)
	if p.stalled {
		p.stallTime += now.Sub(p.stallSince)
		p.stalled = false
	}
	s := sim.ViewerSummary{
		Started: p.started, Startup: p.startup, Stalls: p.stalls,
		StallTime: p.stallTime, Watched: p.watched,
	}
	if p.watched > 0 {
		s.Bitrate = int(math.Round(p.bitSeconds / p.watched.Seconds()))
	}
	return s
}
