package challenge

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/rempart/rempart/internal/httplang"
	"github.com/rempart/rempart/internal/telemetry"
)

// Prefix is where the stage answers for itself, active or not: the verify
// endpoint, the standalone page and the page's assets.
const Prefix = "/_rempart/challenge/"

// VerifyPath is where a solution is POSTed.
const VerifyPath = Prefix + "verify"

// StageName is the stage recorded in telemetry for what it decides.
const StageName = "challenge"

// Stage is the challenge step of the filter stage. While Active (or Scoped,
// for the request's client) reports true, a request passes only with a
// valid clearance cookie or app token; a browser navigating to a page gets
// the challenge page instead, anything else a 403 with a JSON pointer to
// that page. An object a playlist lists, asked at a player's pace, and
// any request of a client that behaves as a viewer pass without one: they
// cost a cache lookup, and players cannot solve puzzles. Otherwise it passes every request on untouched, except those
// under Prefix (so a page solved as the attack ends still redeems its
// solution).
type Stage struct {
	// C checks clearances, tokens and solutions. Required.
	C *Challenger
	// Active reports whether attack mode is on. Nil: never.
	Active func() bool
	// Scoped, when set, reports whether a client is challenged while
	// attack mode is off (its prefix is: challenge_prefix). Nil: none.
	Scoped func(client netip.Addr) bool
	// Next serves what the challenge lets through. Required.
	Next http.Handler
	// Exempt, when set, lets through requests it returns true for without
	// a challenge (a viewer session another stage already vouches for).
	// Nil: none.
	Exempt func(client netip.Addr, r *http.Request) bool
}

var _ http.Handler = (*Stage)(nil)

// ServeHTTP lets r through, answers it for the challenge, or challenges it.
func (s *Stage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, Prefix) {
		s.C.ServeHTTP(w, r)
		return
	}
	client := clientFromRecord(w)
	if (s.Active == nil || !s.Active()) && (s.Scoped == nil || !s.Scoped(client)) {
		s.Next.ServeHTTP(w, r)
		return
	}
	if rec := telemetry.RecordOf(w); rec.Viewer || (rec.Known == telemetry.KnownListed && !rec.Offbeat) {
		s.C.stats.PassedListed.Add(1)
		s.Next.ServeHTTP(w, r) // what costs nothing is never challenged
		return
	}
	if s.C.Cleared(r, client) {
		s.C.stats.PassedClearance.Add(1)
		s.Next.ServeHTTP(w, r)
		return
	}
	ok, hasToken := s.C.tokenOK(r)
	if ok {
		s.C.stats.PassedToken.Add(1)
		s.Next.ServeHTTP(w, r)
		return
	}
	if s.Exempt != nil && s.Exempt(client, r) {
		s.Next.ServeHTTP(w, r)
		return
	}
	s.C.challenge(w, r, hasToken)
}

// challenge answers a request without clearance: the page for a browser
// navigation (200, so that browsers and extensions show it as a page),
// a 403 pointing at the page for everything else, so that players and
// apps do not try to parse HTML as a playlist or JSON.
func (c *Challenger) challenge(w http.ResponseWriter, r *http.Request, badToken bool) {
	if !badToken && httplang.Navigating(r) {
		c.servePage(w, r, safeReturn(r.URL.RequestURI()), http.StatusOK)
		return
	}
	reason := "no_clearance"
	if badToken {
		reason = "bad_token"
		w.Header().Set("WWW-Authenticate", `Bearer realm="rempart", error="invalid_token"`)
	}
	c.stats.Refused.Add(1)
	c.refuseJSON(w, reason, `{"challenge":"`+pageURL(refererReturn(r))+`"}`)
}

// refuseJSON records the refusal and answers 403 with body.
func (c *Challenger) refuseJSON(w http.ResponseWriter, reason, body string) {
	telemetry.RecordOf(w).Decide(StageName, telemetry.OutcomeRefused, reason)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusForbidden)
	_, _ = w.Write([]byte(body + "\n"))
}

// pageURL is the standalone challenge page that returns to ret once
// solved. ret must be safe (safeReturn); the result is JSON-safe.
func pageURL(ret string) string {
	if ret == "/" {
		return Prefix
	}
	return Prefix + "?return=" + url.QueryEscape(ret)
}

// refererReturn is where a player or app request should lead back after a
// challenge: the page it was made from when that is on this site (a player
// loading a playlist), else the site's root.
func refererReturn(r *http.Request) string {
	ref := r.Header.Get("Referer")
	if ref == "" {
		return "/"
	}
	u, err := url.Parse(ref)
	if err != nil || u.Host != r.Host {
		return "/"
	}
	return safeReturn(u.RequestURI())
}

// maxReturnLen bounds the URL a challenge returns to.
const maxReturnLen = 2048

// safeReturn returns s when it is a path on this site, "/" otherwise: never
// an absolute or scheme-relative URL ("//evil.example", "/\evil.example",
// which browsers read as another host), never a control character, never
// the challenge itself.
func safeReturn(s string) string {
	if len(s) == 0 || len(s) > maxReturnLen || s[0] != '/' {
		return "/"
	}
	if len(s) > 1 && (s[1] == '/' || s[1] == '\\') {
		return "/"
	}
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x20 || b == 0x7f || b == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	if strings.HasPrefix(u.Path, Prefix) {
		return "/"
	}
	return s
}
