package playtoken

import (
	"crypto/sha256"
	"time"

	"github.com/maypok86/otter/v2"
)

// recentSize bounds the tokens a Verifier remembers: about one per viewer
// this edge serves, each entry a few hundred bytes, held only while used.
const recentSize = 1 << 16

// entry is a verified token: its claims and when it is valid.
type entry struct {
	claims Claims
	from   time.Time // valid from, leeway included; zero: no nbf
	until  time.Time // valid until (excluded), leeway included
}

// valid reports whether the token is valid at now, as the full check
// would say: now within [nbf-Leeway, exp+Leeway).
func (e *entry) valid(now time.Time) bool {
	return now.Before(e.until) && !now.Before(e.from)
}

// recent remembers the tokens verified lately, by the SHA-256 of the raw
// token: a player presents the same token with every segment, and a hit
// costs a hash and a lookup instead of a JWT parse and a signature check
// (an Ed25519 verification is some 40 µs). Only genuine tokens get in, so
// a flood of forged ones cannot evict them; the bound is for the viewers.
//
// otter rather than a map: its reads take no lock, and when the edge has
// more viewers than places its eviction keeps the tokens used most often
// (W-TinyLFU), where an LRU would miss every time on players that poll in
// a cycle. It runs no goroutine without an expiry, which we do not need:
// entries are checked against the caller's clock on every hit.
type recent struct {
	c *otter.Cache[[sha256.Size]byte, entry]
}

func newRecent(n int) *recent {
	return &recent{c: otter.Must(&otter.Options[[sha256.Size]byte, entry]{MaximumSize: n})}
}

// recentKey is the cache key of raw, at most MaxTokenLen bytes. The copy
// on the stack spares a heap allocation per request: []byte(raw) makes one
// for anything over 32 bytes.
func recentKey(raw string) [sha256.Size]byte {
	var buf [MaxTokenLen]byte
	return sha256.Sum256(buf[:copy(buf[:], raw)])
}

// get returns the claims of the token of key k if it was verified lately
// and is valid at now. An entry that is no longer valid is dropped: the
// full check will say why.
func (r *recent) get(k [sha256.Size]byte, now time.Time) (Claims, bool) {
	e, ok := r.c.GetIfPresent(k)
	if !ok {
		return Claims{}, false
	}
	if !e.valid(now) {
		r.c.Invalidate(k)
		return Claims{}, false
	}
	return e.claims, true
}

// add remembers the token of key k, verified as e.
func (r *recent) add(k [sha256.Size]byte, e entry) {
	r.c.Set(k, e)
}
