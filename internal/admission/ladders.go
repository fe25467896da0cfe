package admission

import (
	"hash/maphash"
	stdpath "path"
	"sync"

	"github.com/rempart/rempart/internal/admission/rewrite"
)

// maxLadders bounds the master playlists a room remembers (channels); past
// it the table starts afresh, which costs a parse per master.
const maxLadders = 4096

// ladders remembers the rendition ladder of each master playlist served,
// one per version of its body, and which master each media playlist
// belongs to, so that a player asking for a dropped rendition's media
// playlist is sent to a kept one.
type ladders struct {
	mu     sync.RWMutex       // guards the maps
	byPath map[string]*ladder // master path → its ladder
	media  map[string]string  // media playlist path → master path
}

type ladder struct {
	sum uint64 // hash of the body the ladder was built from
	l   *rewrite.Ladder
}

var ladderSeed = maphash.MakeSeed()

// of returns the ladder of master body served at path, built once per
// version of the body; nil if the body is not a master playlist.
func (ls *ladders) of(path string, body []byte) *rewrite.Ladder {
	sum := maphash.Bytes(ladderSeed, body)
	ls.mu.RLock()
	cur := ls.byPath[path]
	ls.mu.RUnlock()
	if cur != nil && cur.sum == sum {
		return cur.l
	}
	l, err := rewrite.NewLadder(path, body)
	if err != nil {
		return nil
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.byPath == nil || len(ls.byPath) >= maxLadders {
		ls.byPath, ls.media = map[string]*ladder{}, map[string]string{}
	}
	ls.byPath[path] = &ladder{sum: sum, l: l}
	for _, m := range l.MediaPaths() {
		ls.media[m] = path
	}
	return l
}

// substitute returns where a player asking for media playlist path should
// go when k top renditions are dropped; ok is false when path is kept (or
// belongs to no master seen).
func (ls *ladders) substitute(path string, k int) (string, bool) {
	ls.mu.RLock()
	defer ls.mu.RUnlock()
	master, found := ls.media[stdpath.Clean(path)]
	if !found {
		return "", false
	}
	cur := ls.byPath[master]
	if cur == nil {
		return "", false
	}
	return cur.l.Substitute(path, k)
}

// isMedia reports whether path is known as the media playlist of a master.
func (ls *ladders) isMedia(path string) bool {
	ls.mu.RLock()
	defer ls.mu.RUnlock()
	_, ok := ls.media[stdpath.Clean(path)]
	return ok
}
