package cache

import (
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/rempart/rempart/internal/config"
)

// Why an origin answer was not stored; short, for logs and tests.
const (
	reasonStatus      = "status"       // status code not cacheable by a shared cache
	reasonNoStore     = "no_store"     // Cache-Control: no-store
	reasonPrivate     = "private"      // Cache-Control: private
	reasonSetCookie   = "set_cookie"   // the answer sets a cookie: it belongs to one client
	reasonVary        = "vary"         // Vary: *, Authorization or Cookie
	reasonTooBig      = "too_big"      // body larger than MaxObjectBytes
	reasonNoFreshness = "no_freshness" // no origin lifetime and no TTL for the class
	reasonExpired     = "expired"      // already past its last stale window (Age)
)

// unshareable returns why an origin answer must go to one client only, or ""
// when it may go to every waiter of a flight. Such answers are never stored
// either.
func unshareable(h http.Header, cc cacheControl) string {
	switch {
	case len(h["Set-Cookie"]) > 0:
		return reasonSetCookie
	case cc.private:
		return reasonPrivate
	case cc.noStore:
		return reasonNoStore
	}
	return ""
}

// storableStatus reports whether a shared cache may store status: those
// cacheable by default (RFC 9110 §15.1) that an edge in front of streaming
// origins meets, 404 and 410 as negative answers.
func storableStatus(status int) bool {
	switch status {
	case 200, 203, 204, 300, 301, 308, 404, 410:
		return true
	}
	return false
}

func isNegative(status int) bool { return status == 404 || status == 410 }

// varyStorable reports whether an answer's Vary lets the edge store it.
// Every request header a shared fetch carries is part of the cache key, so
// one key never holds two variants of those; headers it does not carry
// cannot have changed the answer. What is left: "*" (varies on something
// no header says) and credentials, which shared fetches never send, mark
// an answer the origin personalizes.
func varyStorable(h http.Header) bool {
	for _, line := range h["Vary"] {
		for name := range strings.SplitSeq(line, ",") {
			name = textproto.TrimString(name)
			if name == "*" || strings.EqualFold(name, "Authorization") || strings.EqualFold(name, "Cookie") {
				return false
			}
		}
	}
	return true
}

// lifetime is how long a stored answer may be served: fresh, then stale for
// swr while one background fetch refreshes it, or for sie while the origin
// fails. All are measured from the answer's age 0 at the origin.
type lifetime struct {
	fresh, swr, sie time.Duration
}

// retain is how long past age 0 the store must keep the answer.
func (l lifetime) retain() time.Duration { return l.fresh + max(l.swr, l.sie) }

// originLifetime returns the freshness the origin gave (RFC 9111 §4.2.1):
// s-maxage, else max-age, else Expires minus Date; false when it gave none.
// An invalid Expires means already expired.
func originLifetime(h http.Header, cc cacheControl, now time.Time) (time.Duration, bool) {
	switch {
	case cc.sMaxAge >= 0:
		return cc.sMaxAge, true
	case cc.maxAge >= 0:
		return cc.maxAge, true
	case len(h["Expires"]) == 0:
		return 0, false
	}
	exp, err := http.ParseTime(h.Get("Expires"))
	if err != nil {
		return 0, true
	}
	date := now
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		date = d
	}
	return max(exp.Sub(date), 0), true
}

// computeLifetime applies the class policy to an origin answer. It returns
// false when the answer must not be stored: a negative answer with no
// NegativeTTL, or an answer without origin lifetime when the class TTL is 0
// (that is how APIs are cached only when the origin allows it).
//
// The origin's stale-while-revalidate and stale-if-error (RFC 5861) override
// the policy; no-cache makes the answer stale at once (never served without a
// fetch, except on error); must-revalidate and proxy-revalidate forbid any
// stale serving. A media playlist (target > 0) is fresh for at most half its
// target duration and never served older than StaleIfError past its fetch,
// or one target duration when that is 0.
func computeLifetime(status int, h http.Header, cc cacheControl, pol *config.Policy, target time.Duration, now time.Time) (lifetime, bool) {
	origin, explicit := originLifetime(h, cc, now)
	if isNegative(status) {
		return negativeLifetime(origin, explicit, cc, pol)
	}
	if !explicit {
		if pol.TTL <= 0 {
			return lifetime{}, false
		}
		origin = pol.TTL
	}
	l := lifetime{fresh: origin, swr: pol.StaleWhileRevalidate, sie: pol.StaleIfError}
	if pol.MaxTTL > 0 {
		l.fresh = min(l.fresh, pol.MaxTTL)
	}
	if cc.staleWhileRevalidate >= 0 {
		l.swr = cc.staleWhileRevalidate
	}
	if cc.staleIfError >= 0 {
		l.sie = cc.staleIfError
	}
	if cc.noCache {
		l.fresh, l.swr = 0, 0
	}
	noStale := cc.mustRevalidate || cc.proxyRevalidate
	if target > 0 {
		l = boundPlaylist(l, target, noStale)
	}
	if noStale {
		l.swr, l.sie = 0, 0
	}
	return l, true
}

// negativeLifetime is the lifetime of a 404 or 410: NegativeTTL at most,
// never served stale (a stale "not found" helps no viewer).
func negativeLifetime(origin time.Duration, explicit bool, cc cacheControl, pol *config.Policy) (lifetime, bool) {
	if pol.NegativeTTL <= 0 {
		return lifetime{}, false
	}
	fresh := pol.NegativeTTL
	if explicit {
		fresh = min(fresh, origin)
	}
	if cc.noCache {
		fresh = 0
	}
	return lifetime{fresh: fresh}, true
}

// boundPlaylist caps a media playlist's lifetime by its target duration: a
// live player polls every target duration, so a copy older than half of it
// is not fresh, and one older than the bound is a frozen stream.
func boundPlaylist(l lifetime, target time.Duration, noStale bool) lifetime {
	l.fresh = min(l.fresh, target/2)
	bound := target
	if l.sie > 0 {
		bound = l.sie
	}
	if noStale {
		bound = l.fresh
	}
	stale := max(bound-l.fresh, 0)
	l.sie = stale
	l.swr = min(l.swr, stale)
	return l
}
