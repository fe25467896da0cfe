package attack

import (
	"math/rand/v2"
	"net/url"
	"time"

	"github.com/rempart/rempart/internal/hls"
)

// asker chooses what a bot asks next.
type asker interface {
	// next appends the path (the target's prefix included) of the bot's
	// next request to dst; keep says the body is a playlist to hand to got.
	next(dst []byte, now time.Time) (path []byte, keep bool)
	// got reads the body of a playlist asked with keep, received at now.
	got(body []byte, now time.Time)
}

// drawn asks one of its templates, drawn anew for each request.
type drawn struct {
	prefix string
	paths  []template
}

func (d *drawn) next(dst []byte, _ time.Time) ([]byte, bool) {
	dst = append(dst, d.prefix...)
	return d.paths[rand.IntN(len(d.paths))].appendTo(dst), false
}

func (*drawn) got([]byte, time.Time) {}

// listed follows the live stream as a player does, but asks at a bot's
// rate, for the objects the stream really lists: the master playlist once,
// the media playlist of one rendition (picked at random, kept for life)
// whenever its copy is older than a target duration, and otherwise one of
// the segments that playlist lists, at random, or with probability share
// a playlist. Every object it asks is one the edge can serve from its
// cache: the attack on an edge that judges requests by what they cost.
type listed struct {
	master string // the master playlist's path, prefix included
	share  float64
	host   string // the target's host: playlists' absolute URIs elsewhere are ignored

	asked    int      // what the last keep request was: askedMaster or askedMedia
	media    []string // media playlist paths the master lists
	pick     int      // the rendition this bot follows
	segments []string // segment paths its playlist listed last
	fetched  time.Time
	target   time.Duration
}

const (
	askedMaster = iota + 1
	askedMedia
)

func (l *listed) next(dst []byte, now time.Time) ([]byte, bool) {
	switch {
	case len(l.media) == 0:
		l.asked = askedMaster
		return append(dst, l.master...), true
	case len(l.segments) == 0 || now.Sub(l.fetched) >= l.target:
		l.asked = askedMedia
		return append(dst, l.media[l.pick]...), true
	case rand.Float64() < l.share:
		l.asked = 0
		if rand.IntN(len(l.media)+1) == 0 {
			return append(dst, l.master...), false
		}
		return append(dst, l.media[rand.IntN(len(l.media))]...), false
	}
	l.asked = 0
	return append(dst, l.segments[rand.IntN(len(l.segments))]...), false
}

// got reads the playlist next asked for; a body that does not parse
// changes nothing (the bot asks it again).
func (l *listed) got(body []byte, now time.Time) {
	switch l.asked {
	case askedMaster:
		m, err := hls.ParseMaster(body)
		if err != nil {
			return
		}
		l.media = l.media[:0]
		for _, v := range m.Variants {
			if p, ok := l.resolve(l.master, v.URI); ok {
				l.media = append(l.media, p)
			}
		}
		if len(l.media) > 0 {
			l.pick = rand.IntN(len(l.media))
		}
	case askedMedia:
		pl, err := hls.ParseMedia(body)
		if err != nil {
			return
		}
		l.segments = l.segments[:0]
		for _, s := range pl.Segments {
			if p, ok := l.resolve(l.media[l.pick], s.URI); ok {
				l.segments = append(l.segments, p)
			}
		}
		l.fetched, l.target = now, max(pl.TargetDuration, time.Second)
	}
}

// resolve returns the path of ref, relative to the playlist at base, when
// it stays on the target: siege sends nothing elsewhere.
func (l *listed) resolve(base, ref string) (string, bool) {
	b, err := url.Parse(base)
	if err != nil {
		return "", false
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", false
	}
	u := b.ResolveReference(r)
	if u.Host != "" && (u.Host != l.host || (u.Scheme != "http" && u.Scheme != "https")) {
		return "", false
	}
	return u.RequestURI(), true
}
