package cache

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/telemetry"
)

// entry is one stored answer. It is immutable once stored: readers share its
// header slices and body without locks, and a refresh stores a new entry.
type entry struct {
	status  int
	header  http.Header // end-to-end headers as served: no Age, Content-Length set
	body    []byte
	class   telemetry.Class // refined from the body for playlists
	fetched time.Time       // when the edge received it
	initAge time.Duration   // the origin's Age at that time
	life    lifetime
	expires time.Time // end of the longest stale window: the store drops it then

	etag, lastModified string    // validators for revalidation
	modTime            time.Time // parsed Last-Modified, for conditionals
	weight             uint32
}

// entryInput is a complete origin answer and what the edge knew when it
// asked for it.
type entryInput struct {
	key       string
	status    int
	header    http.Header // hop-by-hop stripped; the entry takes ownership
	body      []byte
	class     telemetry.Class // as routed
	now       time.Time
	maxObject int64
}

// buildEntry turns an origin answer into an entry, or returns why it must not
// be stored (RFC 9111 §3 for a shared cache, plus the class policy).
func buildEntry(in entryInput, policies *[telemetry.NumClasses]config.Policy) (*entry, string) {
	cc := parseCacheControl(in.header)
	if r := unshareable(in.header, cc); r != "" {
		return nil, r
	}
	if !storableStatus(in.status) {
		return nil, reasonStatus
	}
	if int64(len(in.body)) > in.maxObject {
		return nil, reasonTooBig
	}
	if !varyStorable(in.header) {
		return nil, reasonVary
	}
	cls := refineClass(in.class, in.body)
	var target time.Duration
	if cls == telemetry.ClassMedia {
		target, _ = parseTargetDuration(in.body)
	}
	life, ok := computeLifetime(in.status, in.header, cc, &policies[cls], target, in.now)
	if !ok {
		return nil, reasonNoFreshness
	}
	e := &entry{
		status: in.status, body: in.body, class: cls, fetched: in.now,
		initAge: parseAge(in.header), life: life,
	}
	e.expires = in.now.Add(life.retain() - e.initAge)
	if !e.expires.After(in.now) {
		return nil, reasonExpired
	}
	if target > 0 {
		// Keep a frozen playlist one more target duration, never to serve
		// it, but to tell "too old" (PlaylistTooOld) from "never fetched".
		e.expires = e.expires.Add(target)
	}
	e.setHeader(in.header)
	e.weight = weigh(in.key, e)
	return e, ""
}

// setHeader stores h as the entry's served headers. Value slices are clipped
// so that a later stage appending to a served header copies it instead of
// writing into the shared entry.
func (e *entry) setHeader(h http.Header) {
	delete(h, "Age")
	delete(h, "Content-Length")
	if e.status != http.StatusNoContent && e.status != http.StatusNotModified {
		h["Content-Length"] = []string{strconv.Itoa(len(e.body))}
	}
	for k, v := range h {
		h[k] = v[:len(v):len(v)]
	}
	e.header = h
	e.etag = h.Get("Etag")
	e.lastModified = h.Get("Last-Modified")
	if t, err := http.ParseTime(e.lastModified); err == nil {
		e.modTime = t
	}
}

// revalidated returns the entry refreshed by a 304 answer (RFC 9111 §4.3.4):
// the stored body with the stored headers updated by the 304's, and new
// times.
func (e *entry) revalidated(key string, h304 http.Header, now time.Time, maxObject int64, policies *[telemetry.NumClasses]config.Policy) (*entry, string) {
	merged := make(http.Header, len(e.header)+len(h304))
	copyHeader(merged, e.header)
	for k, v := range h304 {
		if k != "Content-Length" && k != "Content-Encoding" {
			merged[k] = v
		}
	}
	return buildEntry(entryInput{
		key: key, status: e.status, header: merged, body: e.body, class: e.class,
		now: now, maxObject: maxObject,
	}, policies)
}

// parseAge returns the Age header's value, 0 when absent or invalid.
func parseAge(h http.Header) time.Duration {
	v := h.Get("Age")
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(min(n, math.MaxInt32)) * time.Second
}

// age is the entry's current age (RFC 9111 §4.2.3). The apparent age from
// the origin's Date is left out: edge and origin clocks often disagree.
func (e *entry) age(now time.Time) time.Duration {
	return max(e.initAge+now.Sub(e.fetched), 0)
}

func (e *entry) fresh(now time.Time) bool { return e.age(now) < e.life.fresh }

// revalidatable reports whether the entry may be served stale while one
// background fetch refreshes it.
func (e *entry) revalidatable(now time.Time) bool {
	return e.age(now) < e.life.fresh+e.life.swr
}

// usableOnError reports whether the entry may be served stale because the
// origin failed.
func (e *entry) usableOnError(now time.Time) bool {
	return e.age(now) < e.life.fresh+e.life.sie
}

// entryOverhead estimates the bytes an entry costs beyond its body, key and
// headers: the struct, the store's node and map slot.
const entryOverhead = 256

// weigh estimates the memory an entry holds, for the store's byte bound.
func weigh(key string, e *entry) uint32 {
	n := int64(len(e.body)) + int64(len(key)) + entryOverhead
	for k, vs := range e.header {
		for _, v := range vs {
			n += int64(len(k)+len(v)) + 32
		}
	}
	return uint32(min(n, math.MaxUint32))
}
