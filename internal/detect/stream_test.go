package detect

import (
	"net/http"
	"net/netip"
	"testing"

	"github.com/rempart/rempart/internal/mitigation"
	"github.com/rempart/rempart/internal/telemetry"
)

// observeJudged sends one finished request that the stream stage judged.
func (w *world) observeJudged(client netip.Addr, class telemetry.Class, o telemetry.Outcome, status int, r *http.Request, known telemetry.Known, stage string) {
	w.rec = telemetry.Record{Start: w.now, Client: client, Class: class, Outcome: o, Status: status, Known: known, Stage: stage, Repeats: 1}
	w.d.Observe(&w.rec, r, w.now)
}

// unlistedBots ask random segment names with the viewers' fingerprint;
// the stream stage refused each (404).
func unlistedBots(n int) *attacker {
	r := request("GET", "/live/x81723.ts", "cb=1", viewerHeader)
	return &attacker{sources: sources([2]byte{100, 70}, n), rate: 2, on: true, emit: func(w *world, s netip.Addr) {
		w.observeJudged(s, telemetry.ClassSegment, telemetry.OutcomeRefused, 404, r, telemetry.KnownUnlisted, "stream")
	}}
}

// TestUnlistedObjectsAreToldNotMitigated: unlisted segments already cost
// nothing; the detector says so and takes no mitigation that could touch
// the viewers sharing the bots' fingerprint.
func TestUnlistedObjectsAreToldNotMitigated(t *testing.T) {
	w, v := baselineWorld(t)
	w.pops = append(w.pops, unlistedBots(2000))
	w.run(5)
	st := w.d.Status()
	if !hasAttack(st, UnlistedObjects) || len(w.act.applied) != 0 {
		t.Fatalf("attacks %+v, mitigations %v: want unlisted_objects told and no mitigation", st.Attacks, w.act.kinds())
	}
	if st.Evidence.UnlistedRefused < 3000 || st.Evidence.Rate > 500 {
		t.Errorf("evidence: unlisted %.0f/s rate %.0f/s: unlisted refusals must be counted apart", st.Evidence.UnlistedRefused, st.Evidence.Rate)
	}
	checkViewersSpared(t, w, v)
}

// TestCheapBotnetIsTold: a botnet asking objects the playlists list, at a
// player's pace, is cache hits: told, not throttled nor challenged.
func TestCheapBotnetIsTold(t *testing.T) {
	w, _ := baselineWorld(t)
	r := request("GET", "/live/master.m3u8", "", viewerHeader)
	w.pops = append(w.pops, &attacker{sources: sources([2]byte{100, 64}, 3000), rate: 1, on: true,
		emit: func(w *world, s netip.Addr) {
			w.observeJudged(s, telemetry.ClassMaster, telemetry.OutcomeHit, 200, r, telemetry.KnownListed, "cache")
		}})
	w.run(4)
	if st := w.d.Status(); !hasAttack(st, Botnet) || len(w.act.applied) != 0 {
		t.Fatalf("attacks %+v, mitigations %v: want a botnet told, no mitigation", st.Attacks, w.act.kinds())
	}
}

// TestColdStartTakesOnlyExact: from the edge's first second, with no
// baseline, a lookalike botnet gets no fingerprint throttle nor attack
// mode (they could strike viewers the edge cannot tell yet), while heavy
// single sources are still blocked, address by address, and a botnet of
// a fingerprint no player carries is throttled.
func TestColdStartTakesOnlyExact(t *testing.T) {
	w := newWorld(t)
	v := &viewers{base: viewerBase, joins: func(int) int { return 5 }}
	r := request("GET", "/live/master.m3u8", "", viewerHeader)
	bots := &attacker{sources: sources([2]byte{100, 64}, 3000), rate: 1, on: true,
		emit: func(w *world, s netip.Addr) { w.observe(s, telemetry.ClassMaster, telemetry.OutcomeHit, 200, r) }}
	flood := getFlood(sources([2]byte{203, 0}, 8), 150)
	flood.on = true
	rc := request("GET", "/live/master.m3u8", "", chromeHeader)
	other := &attacker{sources: sources([2]byte{100, 80}, 3000), rate: 1, on: true,
		emit: func(w *world, s netip.Addr) { w.observe(s, telemetry.ClassMaster, telemetry.OutcomeHit, 200, rc) }}
	w.pops = append(w.pops, v, bots, flood, other)
	w.run(5)
	k := w.act.kinds()
	if k[mitigation.AttackMode] != 0 || k[mitigation.ChallengePrefix] != 0 {
		t.Fatalf("cold start took %v: only exact mitigations may be taken without a baseline", k)
	}
	viewersFP, _ := fingerprintOf(r)
	for _, m := range w.act.Active(w.now) {
		if m.Kind == mitigation.ThrottleFingerprint && m.Fingerprint == viewersFP {
			t.Fatalf("cold start throttled the viewers' own fingerprint: %s", m.Reason)
		}
	}
	if k[mitigation.ThrottleFingerprint] != 1 {
		t.Errorf("the botnet no player resembles: %d throttles, want 1", k[mitigation.ThrottleFingerprint])
	}
	if k[mitigation.BlockPrefix] != 8 {
		t.Errorf("heavy sources blocked: %d, want the 8 flooders", k[mitigation.BlockPrefix])
	}
	for _, m := range w.act.Active(w.now) {
		if m.Kind == mitigation.BlockPrefix && m.Prefix.Bits() != 32 {
			t.Errorf("cold start blocked a whole prefix %s", m.Prefix)
		}
	}
	if w.d.Stats().ColdStart.Load() == 0 {
		t.Error("no proposal counted as cold_start")
	}
	checkViewersSpared(t, w, v)
}
