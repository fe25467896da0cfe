package filter

import (
	"net/http"
	"net/netip"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
)

// Reason is why the filter refuses a request.
type Reason uint8

// The reasons, in the order Decide checks them. ReasonNone is the zero
// value: the request may pass.
const (
	ReasonNone        Reason = iota
	ReasonBlocked            // blocked prefix or address: 403
	ReasonThrottled          // throttle_fingerprint mitigation: 429
	ReasonShed               // shed_route mitigation: 503
	ReasonRateLimited        // configured rate limit: 429
	ReasonBusy               // over its fair share while the CPU is saturated: 429
	NumReasons               // number of reasons, for arrays indexed by Reason
)

var reasonNames = [NumReasons]string{"", "blocked", "throttled", "shed", "rate_limited", "busy"}

// String returns the reason as recorded and counted: "blocked",
// "throttled", "shed", "rate_limited" or "busy".
func (r Reason) String() string {
	if r >= NumReasons {
		return "invalid"
	}
	return reasonNames[r]
}

// Action returns what the request record's Action says of a refusal:
// "blocked", "rate_limited" (throttles too), "shed" or "busy".
func (r Reason) Action() string {
	if r == ReasonThrottled {
		return ReasonRateLimited.String()
	}
	return r.String()
}

var reasonStatus = [NumReasons]int{0, http.StatusForbidden, http.StatusTooManyRequests,
	http.StatusServiceUnavailable, http.StatusTooManyRequests, http.StatusTooManyRequests}

// Verdict is the filter's decision on one request.
type Verdict struct {
	// Reason is why the request is refused; ReasonNone: it passes.
	Reason Reason
	// Status is the refusal's status code (403, 429, 503); 0 when it passes.
	Status int
	// RetryAfter is the Retry-After of a 429 or 503, in whole seconds: when
	// the bucket that refused will have a token again.
	RetryAfter int
	// Allowlisted is true when the allowlist let the request through
	// before any other check.
	Allowlisted bool
	// Shadow is true when the request would be refused but the shield is
	// in shadow mode: it passes, counted.
	Shadow bool
}

// Refused reports whether the request is to be refused now.
func (v Verdict) Refused() bool { return v.Reason != ReasonNone && !v.Shadow }

func refusal(r Reason, wait time.Duration) Verdict {
	v := Verdict{Reason: r, Status: reasonStatus[r]}
	if wait > 0 {
		v.RetryAfter = retryAfter(wait)
	}
	return v
}

// Decide decides whether the request of rec (Client, Prefix, Fingerprint
// and Class set by the stages before) and r may pass at now. The order:
// the allowlist lets through at once; then a blocked prefix refuses (403);
// then mitigations (a fingerprint throttled: 429; a route shed: 503); then
// the configured rate limits (429); then, while the CPU is saturated, the
// source's fair share (429, see fair.go), first refusal wins. It takes tokens
// from the buckets it consults and counts into Stats; it does no I/O, and
// a request that passes allocates nothing. In shadow mode a refusal comes
// back with Shadow set; with the mode off every request passes uncounted.
func (s *Shield) Decide(rec *telemetry.Record, r *http.Request, now time.Time) Verdict {
	m := mode(s.mode.Load())
	if m == modeOff {
		return Verdict{}
	}
	v := s.decide(rec, r.URL.Path, now.UnixNano())
	switch {
	case v.Allowlisted:
		s.stats.Allowlisted.Add(1)
	case v.Reason == ReasonNone:
		s.stats.Allowed.Add(1)
	case m == modeShadow:
		v.Shadow = true
		s.stats.Shadowed[v.Reason].Add(1)
	default:
		s.stats.Refused[v.Reason].Add(1)
	}
	return v
}

func (s *Shield) decide(rec *telemetry.Record, path string, now int64) Verdict {
	addr := rec.Client.Unmap()
	if !addr.IsValid() {
		return Verdict{} // no address to judge (not from a network listener)
	}
	if s.allow.Load().Contains(addr) {
		return Verdict{Allowlisted: true}
	}
	if s.blocked(addr, now) {
		return refusal(ReasonBlocked, 0)
	}
	ms := s.mits.Load()
	if (len(ms.throttle) > 0 && !costless(rec)) || (len(ms.shed) > 0 && !rec.Viewer) {
		if v := ms.check(rec, addr, path, now); v.Reason != ReasonNone {
			return v
		}
	}
	pfx := prefixOf(rec, addr)
	for _, l := range *s.limits.Load() {
		if wait := l.take(rec.Class, addr, pfx, rec.Fingerprint, path, now); wait > 0 {
			return refusal(ReasonRateLimited, wait)
		}
	}
	if f := s.fair.Load(); f != nil && !costless(rec) {
		if wait := f.take(addr, now); wait > 0 {
			return refusal(ReasonBusy, wait)
		}
	}
	return Verdict{}
}

// costless reports whether rec asks for what costs the edge a cache
// lookup and the origin nothing: an object a playlist lists, asked at a
// player's pace, or any media request of a client that behaves as a
// viewer. A fingerprint-wide throttle never refuses it: an attacker who
// looks like the viewers must not make the edge strike them for what is
// cheapest to say yes to.
func costless(rec *telemetry.Record) bool {
	return rec.Viewer || (rec.Known == telemetry.KnownListed && !rec.Offbeat)
}

// prefixOf returns the network of addr as the identity stage recorded it
// (IPv4 /24, IPv6 /64), or computes it when the stage did not run.
func prefixOf(rec *telemetry.Record, addr netip.Addr) netip.Addr {
	if rec.Prefix.IsValid() {
		return rec.Prefix.Addr().Unmap()
	}
	return aggregate(addr)
}
