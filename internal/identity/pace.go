package identity

import (
	"hash/maphash"
	"net/http"
	"sync"
)

// A player's cadence, seen from its connection: it asks for a live
// playlist once per target duration and for each segment once, so it
// never repeats a URL more than a couple of times a second. A flood of
// the very objects players fetch (a media playlist, one segment) repeats
// its URL as fast as the connection allows. The connection is the session
// the edge can see without trusting anything the client says: a flooder
// that spreads its requests over many connections to keep each at a
// player's pace pays a connection for every request a second, and meets
// the per-address connection cap.

// paceSlots is how many distinct URLs a connection's second remembers. A
// player asks for a handful; an on-demand player filling its buffer asks
// for more, each once, and those evicted count from one again, which
// only under-counts their repeats.
const paceSlots = 8

var paceSeed = maphash.MakeSeed()

// pace counts how often one connection asked for each URL in the current
// second. HTTP/2 runs a connection's requests at once, hence the lock; it
// is the connection's own, so rarely contended.
type pace struct {
	mu   sync.Mutex // guards sec and urls
	sec  int64
	urls [paceSlots]struct {
		h uint64
		n uint32
	}
}

// count adds one request for the URL hashed to h in second sec (Unix
// seconds) and returns how many times the connection asked for it in that
// second, this one included.
func (p *pace) count(h uint64, sec int64) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if sec != p.sec {
		p.sec = sec
		clear(p.urls[:])
	}
	least := 0
	for i := range p.urls {
		u := &p.urls[i]
		if u.n > 0 && u.h == h {
			u.n++
			return int(u.n)
		}
		if u.n < p.urls[least].n {
			least = i
		}
	}
	p.urls[least].h, p.urls[least].n = h, 1
	return 1
}

// urlKey hashes what makes two requests ask for the same bytes: path,
// query and Range (a byte-range playlist asks one file for a new range
// each segment; those are not repeats).
func urlKey(r *http.Request) uint64 {
	var h maphash.Hash
	h.SetSeed(paceSeed)
	if r.URL != nil {
		h.WriteString(r.URL.Path)
		h.WriteByte('?')
		h.WriteString(r.URL.RawQuery)
	}
	if rg := r.Header["Range"]; len(rg) > 0 {
		h.WriteByte(0)
		h.WriteString(rg[0])
	}
	return h.Sum64()
}
