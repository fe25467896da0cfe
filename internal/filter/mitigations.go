package filter

import (
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gaissmai/bart"

	"github.com/rempart/rempart/internal/mitigation"
	"github.com/rempart/rempart/internal/telemetry"
)

// active is one applied mitigation other than a block. Decide reads until,
// rate and hits without a lock; m is guarded by Shield.mu.
type active struct {
	m     mitigation.Mitigation // as applied; Until and Hits are read from below
	until atomic.Int64          // Unix nanoseconds
	rate  atomic.Uint64         // math.Float64bits of the rate
	hits  atomic.Uint64

	class  telemetry.Class // strip_params; ClassUnknown: every class
	global *globalBucket   // shed_route: one bucket for everyone
}

func (a *active) live(now int64) bool { return a.until.Load() > now }

// limits returns the rate and burst in force: bursts of mitigations are
// one second's worth, they are meant to bite.
func (a *active) limits() (rate, burst float64) {
	rate = math.Float64frombits(a.rate.Load())
	return rate, max(1, rate)
}

// sameTarget reports whether b acts on what a does, so that applying b
// renews a rather than replacing it.
func (a *active) sameTarget(b *active) bool {
	return a.m.Kind == b.m.Kind && a.m.Fingerprint == b.m.Fingerprint &&
		a.m.Path == b.m.Path && a.m.Class == b.m.Class && a.m.Prefix == b.m.Prefix
}

func (a *active) viewLocked(shadow bool) mitigation.Mitigation {
	m := a.m
	m.Until = time.Unix(0, a.until.Load()).UTC()
	m.Hits = a.hits.Load()
	m.Shadow = shadow
	if a.m.Kind == mitigation.ThrottleFingerprint || a.m.Kind == mitigation.ShedRoute {
		m.Rate, _ = a.limits()
	}
	return m
}

// mitSet is the immutable snapshot of mitigations Decide and the flag
// readers consult; rebuilt on every change.
type mitSet struct {
	throttle map[uint64]*active // by fingerprint
	keys     *keyTable          // throttles' buckets, by address and fingerprint
	shed     []*active
	strip    []*active
	attack   []*active
	prefixes *bart.Table[*active] // challenge_prefix, by prefix; nil when none
}

// check applies throttles and sheds to a request. A throttle matches the
// request's fingerprint or its TLS one, never a costless request; a shed
// never refuses a viewer.
func (ms *mitSet) check(rec *telemetry.Record, addr netip.Addr, path string, now int64) Verdict {
	if !costless(rec) {
		if v := ms.throttled(addr, rec.Fingerprint, now); v.Reason != ReasonNone {
			return v
		}
		if v := ms.throttled(addr, rec.TLSFingerprint, now); v.Reason != ReasonNone {
			return v
		}
	}
	if rec.Viewer {
		return Verdict{}
	}
	for _, a := range ms.shed {
		if !a.live(now) || !strings.HasPrefix(path, a.m.Path) {
			continue
		}
		rate, burst := a.limits()
		if wait := a.global.take(now, rate, burst); wait > 0 {
			a.hits.Add(1)
			return refusal(ReasonShed, wait)
		}
	}
	return Verdict{}
}

func (ms *mitSet) throttled(addr netip.Addr, fp uint64, now int64) Verdict {
	a := ms.throttle[fp]
	if a == nil || fp == 0 || !a.live(now) {
		return Verdict{}
	}
	rate, burst := a.limits()
	if a.m.Aggregate {
		addr = netip.IPv6Unspecified() // one bucket for every address
	}
	k := addrKey(addr)
	k.fp = fp
	if wait := ms.keys.take(k, now, rate, burst); wait > 0 {
		a.hits.Add(1)
		return refusal(ReasonThrottled, wait)
	}
	return Verdict{}
}

// Apply applies m, or renews it when its ID is already active, and returns
// what it applied: Until clamped to [MinTTL, MaxTTL] from now (zero:
// DefaultMitigationTTL), rates to [MinRate, MaxRate], reasons cleaned. It
// refuses a mitigation without ID or reason, of an unknown kind, without
// its target (prefix, fingerprint, path) or with a prefix too wide.
func (s *Shield) Apply(m mitigation.Mitigation) (applied mitigation.Mitigation, err error) {
	now := s.now()
	m.Reason = strings.TrimSpace(cleanText(m.Reason))
	if m.Source = cleanText(m.Source); m.Source == "" {
		m.Source = "detector"
	}
	switch {
	case m.ID == "" || len(m.ID) > maxReasonBytes:
		return m, fmt.Errorf("%w: %s: id must have 1 to %d bytes", ErrBadMitigation, m.Kind, maxReasonBytes)
	case m.Reason == "":
		return m, fmt.Errorf("%w: %s %q: no reason: every action must say why", ErrBadMitigation, m.Kind, m.ID)
	}
	m.Until = clampUntil(m.Until, now)
	m.Hits, m.Shadow = 0, false
	if m.Kind == mitigation.BlockPrefix {
		return s.applyBlock(m, now)
	}
	a, err := newActive(m, now)
	if err != nil {
		return m, err
	}
	return s.applyActive(a, now)
}

// newActive checks m's target and clamps its rate.
func newActive(m mitigation.Mitigation, now time.Time) (*active, error) {
	a := &active{}
	bad := func(what string) error { return fmt.Errorf("%w: %s %q: %s", ErrBadMitigation, m.Kind, m.ID, what) }
	switch m.Kind {
	case mitigation.ThrottleFingerprint:
		if m.Fingerprint == 0 {
			return nil, bad("no fingerprint")
		}
	case mitigation.ShedRoute:
		if !strings.HasPrefix(m.Path, "/") {
			return nil, bad(fmt.Sprintf("path %q: want a path starting with /", m.Path))
		}
	case mitigation.StripParams:
		if m.Class != "" && m.Class != "*" {
			c, err := telemetry.ParseClass(m.Class)
			if err != nil {
				return nil, bad(err.Error())
			}
			a.class = c
		}
	case mitigation.AttackMode:
	case mitigation.ChallengePrefix:
		p, err := targetPrefix(m)
		if err != nil {
			return nil, err
		}
		m.Prefix = p
	default:
		return nil, bad("unknown kind: want block_prefix, throttle_fingerprint, strip_params, shed_route, attack_mode or challenge_prefix")
	}
	if m.Kind == mitigation.ThrottleFingerprint || m.Kind == mitigation.ShedRoute {
		if math.IsNaN(m.Rate) {
			m.Rate = MinRate
		}
		m.Rate = min(max(m.Rate, MinRate), MaxRate)
		a.rate.Store(math.Float64bits(m.Rate))
	} else {
		m.Rate = 0
	}
	if m.Kind == mitigation.ShedRoute {
		a.global = newGlobalBucket(now.UnixNano(), max(1, m.Rate))
	}
	a.m = m
	a.until.Store(m.Until.UnixNano())
	return a, nil
}

// applyActive adds a, or renews the active mitigation of the same ID.
func (s *Shield) applyActive(a *active, now time.Time) (mitigation.Mitigation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := a.m.ID
	if _, ok := s.byID[id]; ok {
		return a.m, fmt.Errorf("%w: id %q already names a block_prefix mitigation", ErrBadMitigation, id)
	}
	if old := s.others[id]; old != nil && old.live(now.UnixNano()) && old.sameTarget(a) {
		old.m.Reason, old.m.Source = a.m.Reason, a.m.Source
		old.until.Store(a.until.Load())
		if old.rate.Swap(a.rate.Load()) != a.rate.Load() {
			s.rebuildLocked() // the stricter of two throttles may have changed
		}
		s.logger.Debug("mitigation renewed", "id", id, "until", a.m.Until)
		return old.viewLocked(s.shadow()), nil
	}
	if _, ok := s.others[id]; !ok && len(s.others) >= maxMitigations {
		s.sweepOthersLocked(now.UnixNano())
		if len(s.others) >= maxMitigations {
			return a.m, fmt.Errorf("%w: %d active: lift some first", ErrTooManyActions, len(s.others))
		}
	}
	a.m.Since = now.UTC()
	s.others[id] = a
	s.rebuildLocked()
	s.logger.Info("mitigation applied", "id", id, "kind", a.m.Kind, "source", a.m.Source, "reason", a.m.Reason, "until", a.m.Until)
	return a.viewLocked(s.shadow()), nil
}

// Lift ends the mitigation id (a block included) and reports whether it
// was active.
func (s *Shield) Lift(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.byID[id]; e != nil {
		s.removeLocked(e)
		s.logger.Info("block lifted", "id", id, "prefix", e.prefix)
		return true
	}
	if _, ok := s.others[id]; !ok {
		return false
	}
	delete(s.others, id)
	s.rebuildLocked()
	s.logger.Info("mitigation lifted", "id", id)
	return true
}

// Active lists the mitigations in force at now, by ID: those applied by
// the detector or an operator, blocks included, but not the (possibly
// long) lists of block files, which Blocks lists.
func (s *Shield) Active(now time.Time) []mitigation.Mitigation {
	n := now.UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	shadow := s.shadow()
	out := make([]mitigation.Mitigation, 0, len(s.others)+len(s.byID))
	for _, a := range s.others {
		if a.live(n) {
			out = append(out, a.viewLocked(shadow))
		}
	}
	for _, e := range s.byID {
		if e.live(n) {
			out = append(out, e.view(shadow))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// sweepOthersLocked forgets the mitigations expired by now.
func (s *Shield) sweepOthersLocked(now int64) {
	n := 0
	for id, a := range s.others {
		if !a.live(now) {
			delete(s.others, id)
			s.logger.Info("mitigation expired", "id", id, "kind", a.m.Kind, "hits", a.hits.Load())
			n++
		}
	}
	if n > 0 {
		s.rebuildLocked()
	}
}

// rebuildLocked publishes a new snapshot of s.others. When two throttles
// name one fingerprint, the stricter applies.
func (s *Shield) rebuildLocked() {
	ms := &mitSet{throttle: make(map[uint64]*active), keys: s.throttleKeys}
	for _, a := range s.others {
		switch a.m.Kind {
		case mitigation.ThrottleFingerprint:
			if old := ms.throttle[a.m.Fingerprint]; old == nil || a.rate.Load() < old.rate.Load() {
				ms.throttle[a.m.Fingerprint] = a
			}
		case mitigation.ShedRoute:
			ms.shed = append(ms.shed, a)
		case mitigation.StripParams:
			ms.strip = append(ms.strip, a)
		case mitigation.AttackMode:
			ms.attack = append(ms.attack, a)
		case mitigation.ChallengePrefix:
			if ms.prefixes == nil {
				ms.prefixes = new(bart.Table[*active])
			}
			ms.prefixes.Insert(a.m.Prefix, a)
		}
	}
	s.mits.Store(ms)
}

// StripParams reports whether query parameters of requests of class are
// to be dropped from cache keys and origin requests now (a strip_params
// mitigation is active for it). Always false in shadow mode.
func (s *Shield) StripParams(class telemetry.Class) bool {
	ms := s.mits.Load()
	if len(ms.strip) == 0 || s.shadow() {
		return false
	}
	now := s.now().UnixNano()
	for _, a := range ms.strip {
		if a.live(now) && (a.class == telemetry.ClassUnknown || a.class == class) {
			a.hits.Add(1)
			return true
		}
	}
	return false
}

// AttackMode reports whether new browser sessions are to be challenged now
// (an attack_mode mitigation is active). Always false in shadow mode.
func (s *Shield) AttackMode() bool {
	ms := s.mits.Load()
	if len(ms.attack) == 0 || s.shadow() {
		return false
	}
	now := s.now().UnixNano()
	for _, a := range ms.attack {
		if a.live(now) {
			return true
		}
	}
	return false
}

// PrefixChallenged reports whether a challenge_prefix mitigation covers
// client now (attack mode for its prefix alone). Always false in shadow
// mode.
func (s *Shield) PrefixChallenged(client netip.Addr) bool {
	ms := s.mits.Load()
	if ms.prefixes == nil || s.shadow() || !client.IsValid() {
		return false
	}
	a, ok := ms.prefixes.Lookup(client.Unmap())
	if !ok || !a.live(s.now().UnixNano()) {
		return false
	}
	a.hits.Add(1)
	return true
}
