package detect

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/rempart/rempart/internal/mitigation"
)

// Tick closes the current second and judges it: features, verdict,
// baseline, mitigations. Run calls it every Interval; tests call it with
// their own clock.
func (d *Detector) Tick(now time.Time) {
	d.tickMu.Lock()
	defer d.tickMu.Unlock()
	s := d.closeSecond()
	f := &d.feat
	measure(s, f, d.watched.known)
	found := judge(s, d.base, f)
	confirmed, pending := d.confirm(found)
	verdict, reason := UnderAttack, ""
	if len(confirmed) == 0 {
		verdict, reason = calm(d.base, f)
	}
	if len(found) == 0 && (verdict == Normal || verdict == FlashCrowd) {
		d.base.learn(s, f, verdict == Normal)
	}
	d.setVerdict(now, verdict, reason, confirmed)
	decisions := d.enforce(now, d.plan(s, f, confirmed))
	d.liftStale(now)
	if now.Sub(d.rotated) >= recentHalf {
		d.recent.rotate()
		d.watched.rotate()
		d.rotated = now
	}
	d.publish(now, s, f, confirmed, pending, reason, decisions)
	d.stats.Ticks.Add(1)
	d.stats.Requests.Add(s.n)
	d.stats.countVerdict(verdict)
}

// exact reports whether m can only strike what it names: one address
// blocked, query strings stripped from keys, a fingerprint no player-like
// request carried this second (share 0). A fresh edge with no baseline
// takes only those: attack mode, a prefix challenged, a route shed or a
// throttle of a fingerprint players use may strike the viewers it cannot
// tell yet.
func exact(m mitigation.Mitigation, share float64) bool {
	switch m.Kind {
	case mitigation.BlockPrefix:
		return m.Prefix.Bits() == m.Prefix.Addr().BitLen()
	case mitigation.StripParams:
		return true
	case mitigation.ThrottleFingerprint:
		return share == 0
	}
	return false
}

// confirm counts consecutive seconds per attack class and returns the
// findings whose class has lasted confirmSeconds, and the classes seen but
// not confirmed yet.
func (d *Detector) confirm(found []finding) (confirmed []finding, pending []AttackClass) {
	seen := map[AttackClass]bool{}
	for _, fd := range found {
		seen[fd.class] = true
	}
	for c := range d.streak {
		if !seen[c] {
			delete(d.streak, c)
		}
	}
	for c := range seen {
		d.streak[c]++
		if d.streak[c] < confirmSeconds {
			pending = append(pending, c)
		}
	}
	for _, fd := range found {
		if d.streak[fd.class] >= confirmSeconds {
			confirmed = append(confirmed, fd)
		}
	}
	slices.Sort(pending)
	return confirmed, pending
}

func (d *Detector) setVerdict(now time.Time, v Verdict, reason string, confirmed []finding) {
	if v == d.verdict && !d.since.IsZero() {
		return
	}
	d.verdict, d.since = v, now
	classes := make([]string, 0, len(confirmed))
	for _, fd := range confirmed {
		if !slices.Contains(classes, string(fd.class)) {
			classes = append(classes, string(fd.class))
		}
	}
	d.log.Info("detect: verdict", "verdict", v, "attacks", classes, "reason", reason)
}

// enforce applies the proposals within the budget, renewing those already
// active, and returns what became of each.
func (d *Detector) enforce(now time.Time, props []proposal) []Decision {
	out := make([]Decision, 0, len(props))
	done := make(map[string]bool, len(props))
	for _, p := range props {
		m := p.m
		if done[m.ID] {
			continue // e.g. attack mode asked by two attacks
		}
		done[m.ID] = true
		m.Source, m.Since, m.Until = sourceName, now, now.Add(d.cfg.MitigationTTL)
		dec := Decision{Mitigation: m, LegitShare: p.share, Attack: p.class}
		a, held := d.active[m.ID]
		switch {
		case !d.base.warm() && !exact(m, p.share):
			// No baseline to tell the viewers' share by: only what
			// strikes the attacker alone (one address, a query strip).
			dec.Action = "cold_start"
			d.stats.ColdStart.Add(1)
		case p.share > d.cfg.FalsePositiveBudget:
			dec.Action = "vetoed"
			d.stats.Vetoed.Add(1)
			d.once(now, "veto:"+m.ID, slog.LevelWarn, "detect: mitigation vetoed by the false-positive budget",
				"id", m.ID, "legit_share", p.share, "budget", d.cfg.FalsePositiveBudget, "reason", m.Reason)
			if held { // the viewers came to it: stop hitting them now
				d.lift(now, m.ID, a)
			}
		case !held && len(d.active) >= maxActive:
			dec.Action = "capped"
		default:
			if held {
				m.Since = a.m.Since
			}
			dec.Action = d.apply(now, m, held)
		}
		out = append(out, dec)
	}
	return out
}

func (d *Detector) apply(now time.Time, m mitigation.Mitigation, held bool) string {
	applied, err := d.act.Apply(m)
	if err != nil {
		d.stats.Failed.Add(1)
		d.once(now, "fail:"+m.ID, slog.LevelError, "detect: apply mitigation", "id", m.ID, "err", err)
		return "failed"
	}
	d.active[m.ID] = &active{m: applied, lastMatch: now}
	if held {
		d.stats.Renewed.Add(1)
		return "renewed"
	}
	d.stats.Applied.Add(1)
	d.log.Info("detect: mitigation applied", "id", m.ID, "kind", m.Kind, "until", applied.Until, "reason", m.Reason)
	return "applied"
}

// liftStale lifts the mitigations whose traffic has not matched for
// liftAfter (or the TTL, if shorter).
func (d *Detector) liftStale(now time.Time) {
	after := min(liftAfter, d.cfg.MitigationTTL)
	for id, a := range d.active {
		if now.Sub(a.lastMatch) < after {
			continue
		}
		d.lift(now, id, a)
	}
}

func (d *Detector) lift(now time.Time, id string, a *active) {
	d.act.Lift(id)
	delete(d.active, id)
	d.stats.Lifted.Add(1)
	d.log.Info("detect: mitigation lifted", "id", id, "kind", a.m.Kind, "quiet_for", now.Sub(a.lastMatch))
}

// once logs a line at most once a minute per key, so that a veto renewed
// every second does not flood the log.
func (d *Detector) once(now time.Time, key string, level slog.Level, msg string, args ...any) {
	if t, ok := d.quiet[key]; ok && now.Sub(t) < time.Minute {
		return
	}
	for k, t := range d.quiet {
		if now.Sub(t) >= time.Minute {
			delete(d.quiet, k)
		}
	}
	d.quiet[key] = now
	d.log.Log(context.Background(), level, msg, args...)
}

func (d *Detector) publish(now time.Time, s *second, f *features, confirmed []finding,
	pending []AttackClass, reason string, decisions []Decision) {
	st := Status{At: now, Verdict: d.verdict, Since: d.since, Reason: reason,
		Attacks: attacksOf(s, f, confirmed), Pending: pending, Evidence: evidenceOf(f, d.base),
		Decisions: decisions}
	for _, a := range d.active {
		st.Active = append(st.Active, a.m)
	}
	slices.SortFunc(st.Active, func(a, b mitigation.Mitigation) int { return strings.Compare(a.ID, b.ID) })
	d.mu.Lock()
	d.status = st
	d.mu.Unlock()
}
