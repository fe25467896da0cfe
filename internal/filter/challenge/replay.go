package challenge

import (
	"sync"
	"time"
)

// DefaultReplayEntries bounds the replay cache: the nonces of challenges
// redeemed in the last MaxAge. Beyond it the oldest generation is dropped
// early, so a replay of a challenge redeemed long enough before may pass;
// it only ever earns a clearance bound to the same client, which that
// client could have copied anyway.
const DefaultReplayEntries = 200_000

// replayCache remembers redeemed nonces for at least MaxAge, in two
// generations: a nonce is looked up in both, added to the current one, and
// the previous one is dropped when the current one is MaxAge old or half
// the bound full. Memory stays under max entries.
type replayCache struct {
	max int

	mu       sync.Mutex // protects the fields below
	cur      map[[nonceLen]byte]struct{}
	prev     map[[nonceLen]byte]struct{}
	curStart time.Time
}

func newReplayCache(max int) *replayCache {
	return &replayCache{max: max, cur: make(map[[nonceLen]byte]struct{})}
}

// redeem records nonce and reports whether it was fresh (never redeemed).
func (c *replayCache) redeem(nonce [nonceLen]byte, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rotateLocked(now)
	if _, ok := c.cur[nonce]; ok {
		return false
	}
	if _, ok := c.prev[nonce]; ok {
		return false
	}
	c.cur[nonce] = struct{}{}
	return true
}

func (c *replayCache) rotateLocked(now time.Time) {
	if c.curStart.IsZero() {
		c.curStart = now
	}
	if now.Sub(c.curStart) < MaxAge && len(c.cur) < c.max/2 {
		return
	}
	c.prev, c.cur, c.curStart = c.cur, make(map[[nonceLen]byte]struct{}), now
}

// len returns the number of nonces remembered.
func (c *replayCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.prev)
}
