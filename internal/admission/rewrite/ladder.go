package rewrite

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"path"
	"strings"
	"sync"

	"github.com/rempart/rempart/internal/hls"
)

// ErrMasterPath is wrapped by NewLadder's error for a master path that is
// not an absolute path.
var ErrMasterPath = errors.New("rewrite: master path must start with /")

// never is the tier of a variant no drop removes (audio-only beside video).
const never = math.MaxInt

// Ladder is the rendition ladder of one version of a master playlist:
// built once, shared by every request for that version, safe for
// concurrent use.
//
// A rendition is a rung of the ladder: the variants (EXT-X-STREAM-INF)
// with the same BANDWIDTH and RESOLUTION, so that redundant copies of a
// rendition (failover URIs) go together. Rungs are ranked by BANDWIDTH,
// highest first, then by resolution. Audio-only variants (no RESOLUTION,
// audio codecs only) beside video ones are not rungs: they are never
// dropped and never a substitute.
type Ladder struct {
	body  []byte
	tiers int            // rungs
	tier  []int          // tier[i] is the rung of the master's variant i; 0 = top, never = kept
	rungs []variant      // every variant, best first; audio-only ones (tier never) last
	paths map[string]int // media playlist path → index in rungs of its lowest variant
	drops []dropMemo     // drops[k] is Drop(k), made on first use; [0] is unused
}

// variant is what Substitute needs of one variant.
type variant struct {
	tier   int
	path   string // path of its media playlist, unescaped and clean; "" when not local
	target string // its media playlist as a Location: escaped path and query
	video  string // video codec family and range ("avc/SDR"); "" when unknown
}

// dropMemo holds Drop(k), made once.
type dropMemo struct {
	once sync.Once
	out  []byte
}

// NewLadder parses body, a master playlist served at masterPath (the
// request path: "/live/master.m3u8"), against which the variant URIs are
// resolved. The Ladder keeps body: the caller must not change it.
func NewLadder(masterPath string, body []byte) (*Ladder, error) {
	if !strings.HasPrefix(masterPath, "/") {
		return nil, fmt.Errorf("new ladder %q: %w", masterPath, ErrMasterPath)
	}
	m, err := hls.ParseMaster(body)
	if err != nil {
		return nil, fmt.Errorf("new ladder %s: %w", masterPath, err)
	}
	l := &Ladder{body: body, tier: make([]int, len(m.Variants)), paths: map[string]int{}}
	base := &url.URL{Path: masterPath}
	for _, i := range ladderOrder(m.Variants, l.tier) {
		v := m.Variants[i]
		r := variant{tier: l.tier[i], video: videoKey(v)}
		r.path, r.target = resolve(base, v.URI)
		l.rungs = append(l.rungs, r)
		if l.tier[i] != never {
			l.tiers = l.tier[i] + 1
		}
	}
	for j, r := range l.rungs { // the lowest variant of a path decides
		if r.path != "" {
			if old, ok := l.paths[r.path]; !ok || l.rungs[old].tier <= r.tier {
				l.paths[r.path] = j
			}
		}
	}
	l.drops = make([]dropMemo, max(l.tiers, 1))
	return l, nil
}

// Renditions returns how many rungs the ladder has: Drop removes at most
// Renditions()-1 of them.
func (l *Ladder) Renditions() int { return l.tiers }

// Drop returns the master playlist without its k top renditions: their
// EXT-X-STREAM-INF and URI lines (and any line between the two) are gone,
// every other line is kept byte for byte. k is clamped to [0,
// Renditions()-1], so one rendition always stays; Drop(0) is the body
// NewLadder was given. The result is made once per k and shared: the
// caller must not change it.
func (l *Ladder) Drop(k int) []byte {
	k = l.clamp(k)
	if k == 0 {
		return l.body
	}
	d := &l.drops[k]
	d.once.Do(func() { d.out = l.without(k) })
	return d.out
}

// without encodes the master less the variants of the k top rungs.
func (l *Ladder) without(k int) []byte {
	m, err := hls.ParseMaster(l.body) // a copy of our own: Drop runs concurrently
	if err != nil {
		return l.body // cannot happen: NewLadder parsed the same bytes
	}
	kept := m.Variants[:0]
	for i, v := range m.Variants {
		if l.tier[i] >= k {
			kept = append(kept, v)
		}
	}
	m.Variants = kept
	return m.Encode()
}

func (l *Ladder) clamp(k int) int {
	return max(0, min(k, l.tiers-1))
}

// Substitute tells where to send a player asking for mediaPath (the
// unescaped request path, as in url.URL.Path) when the k top renditions
// are dropped. When mediaPath is the media playlist of a dropped rendition
// only (not also of a kept one), it returns the media playlist of the best
// kept rendition the player can surely play: the same video codec family
// and range (a player that chose HEVC HDR stays on it), else H.264 SDR,
// which every HLS player plays, never one it may not decode. The target is
// an escaped path with the variant URI's query, ready for a Location
// header (add the session with SetParam). Variants whose URI is not local
// (IsLocal) take no part: another host serves them. ok is false when
// there is nothing to substitute.
func (l *Ladder) Substitute(mediaPath string, k int) (target string, ok bool) {
	k = l.clamp(k)
	j, found := l.paths[path.Clean(mediaPath)]
	if k == 0 || !found || l.rungs[j].tier >= k {
		return "", false
	}
	want := l.rungs[j].video
	if r, ok := l.bestKept(k, want); ok {
		return r, true
	}
	return l.bestKept(k, baseline)
}

// bestKept returns the target of the best rung kept at k whose video goes
// with video (an unknown codec, either side, goes with anything).
func (l *Ladder) bestKept(k int, video string) (string, bool) {
	for _, r := range l.rungs {
		if r.tier >= k && r.tier != never && r.path != "" &&
			(video == "" || r.video == "" || r.video == video) {
			return r.target, true
		}
	}
	return "", false
}

// MediaPaths returns the clean paths of the master's local media
// playlists, for the caller to index which master each belongs to.
func (l *Ladder) MediaPaths() []string {
	out := make([]string, 0, len(l.paths))
	for p := range l.paths {
		out = append(out, p)
	}
	return out
}
