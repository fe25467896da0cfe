package detect

import (
	"context"
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/mitigation"
	"github.com/rempart/rempart/internal/telemetry"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var viewerBase = [2]byte{10, 0}

// baselineWorld is 30 s of 5 viewer arrivals a second (150 viewers).
func baselineWorld(t testing.TB) (*world, *viewers) {
	w := newWorld(t)
	v := &viewers{base: viewerBase, joins: func(sec int) int {
		if sec < 30 {
			return 5
		}
		return 1
	}}
	w.pops = append(w.pops, v)
	w.run(30)
	if st := w.d.Status(); st.Verdict != Normal || len(w.act.applied) > 0 {
		t.Fatalf("baseline: verdict %s, %d mitigations, want normal and none", st.Verdict, len(w.act.applied))
	}
	return w, v
}

func TestAttacksDetectedAndLifted(t *testing.T) {
	tests := []struct {
		name   string
		attack *attacker
		class  AttackClass
		kind   mitigation.Kind
	}{
		{"get-flood", getFlood(sources([2]byte{203, 0}, 8), 150), GetFlood, mitigation.BlockPrefix},
		// What players fetch, repeated on each connection far faster than
		// a player's pace: no crowd, a flood.
		{"media-flood", mediaFlood(sources([2]byte{203, 1}, 40), 50, 2), GetFlood, mitigation.BlockPrefix},
		{"cache-bust", cacheBust(sources([2]byte{198, 18}, 20), 60), CacheBust, mitigation.StripParams},
		// From heavy sources: blocking them keeps the login open for real
		// users; a flood of many light sources is shed instead.
		{"login-flood", loginFlood(sources([2]byte{198, 19}, 20), 60), LoginFlood, mitigation.BlockPrefix},
		{"login-flood-distributed", loginFlood(sources([2]byte{198, 20}, 600), 2), LoginFlood, mitigation.ShedRoute},
		{"botnet", botnetOf(sources([2]byte{100, 64}, 5000)), Botnet, mitigation.ThrottleFingerprint},
		{"connection", connFlood(sources([2]byte{192, 0}, 50), 20), Connection, mitigation.BlockPrefix},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, v := baselineWorld(t)
			w.pops = append(w.pops, tt.attack)
			tt.attack.on = true
			detectedAt := 0
			for tick := 1; tick <= 3 && detectedAt == 0; tick++ {
				w.step()
				if hasAttack(w.d.Status(), tt.class) && w.act.kinds()[tt.kind] > 0 {
					detectedAt = tick
				}
			}
			if detectedAt == 0 {
				st := w.d.Status()
				t.Fatalf("not detected in 3 ticks: verdict %s attacks %+v pending %v kinds %v evidence %+v",
					st.Verdict, st.Attacks, st.Pending, w.act.kinds(), st.Evidence)
			}
			t.Logf("%s detected and mitigated at tick %d: %v", tt.class, detectedAt, w.act.kinds())
			w.run(10)
			checkViewersSpared(t, w, v)
			if st := w.d.Status(); !hasAttack(st, tt.class) {
				t.Fatalf("attack still on, verdict %s %+v", st.Verdict, st.Attacks)
			}
			tt.attack.on = false
			w.run(int(liftAfter/time.Second) + 2)
			if n := len(w.act.active); n != 0 {
				t.Fatalf("%d mitigations still active 12 s after the attack stopped: %v", n, w.act.kinds())
			}
			if st := w.d.Status(); st.Verdict != Normal {
				t.Errorf("verdict after the attack = %s, want normal", st.Verdict)
			}
			if w.d.Stats().Lifted.Load() == 0 || w.d.Stats().Applied.Load() == 0 {
				t.Errorf("stats applied %d lifted %d", w.d.Stats().Applied.Load(), w.d.Stats().Lifted.Load())
			}
		})
	}
}

func hasAttack(st Status, c AttackClass) bool {
	for _, a := range st.Attacks {
		if a.Class == c {
			return st.Verdict == UnderAttack
		}
	}
	return false
}

// checkViewersSpared fails if an active block covers a viewer's address.
func checkViewersSpared(t *testing.T, w *world, v *viewers) {
	t.Helper()
	for _, m := range w.act.Active(w.now) {
		if m.Kind != mitigation.BlockPrefix {
			continue
		}
		for i := range v.joined {
			if m.Prefix.Contains(v.addr(i)) {
				t.Fatalf("mitigation %s blocks viewer %s: %s", m.ID, v.addr(i), m.Reason)
			}
		}
	}
}

// TestKickoffIsFlashCrowd ramps arrivals from 5 to 50 a second (10× the
// baseline's) and holds a match: a crowd, never an attack.
func TestKickoffIsFlashCrowd(t *testing.T) {
	w := newWorld(t)
	w.pops = append(w.pops, &viewers{base: viewerBase, joins: func(sec int) int {
		switch {
		case sec < 30:
			return 5
		case sec < 60:
			return 5 + (sec-30)*45/29 // ramp 5 → 50
		default:
			return 10
		}
	}})
	crowd := 0
	for range 80 {
		w.step()
		st := w.d.Status()
		if st.Verdict == FlashCrowd {
			crowd++
		}
		if st.Verdict == UnderAttack || len(st.Pending) > 0 {
			t.Fatalf("second %d: verdict %s attacks %+v pending %v evidence %+v",
				w.sec, st.Verdict, st.Attacks, st.Pending, st.Evidence)
		}
	}
	if len(w.act.applied) != 0 {
		t.Fatalf("kickoff applied %d mitigations: %+v", len(w.act.applied), w.act.applied[0])
	}
	if crowd == 0 {
		t.Fatalf("never judged a flash crowd; last %+v", w.d.Status())
	}
	st := w.d.Status()
	t.Logf("flash crowd for %d s; last: %s %s", crowd, st.Verdict, st.Reason)
}

// TestFlooderAmongViewers puts a flooder in the /24 that carries every
// viewer: the prefix is never blocked (people play there), the flooding
// address alone is.
func TestFlooderAmongViewers(t *testing.T) {
	w, v := baselineWorld(t)
	flooder := netip.MustParseAddr("10.0.0.250")
	flood := getFlood([]netip.Addr{flooder}, 3000)
	flood.on = true
	w.pops = append(w.pops, flood)
	w.run(5)
	if _, ok := w.act.active["detect/block_prefix/10.0.0.0/24"]; ok {
		t.Fatal("the viewers' prefix is blocked")
	}
	if _, ok := w.act.active["detect/block_prefix/10.0.0.250/32"]; !ok {
		t.Fatalf("the flooding address is not blocked: %v", w.d.Status().Decisions)
	}
	checkViewersSpared(t, w, v)
}

// TestNewcomerKeepsPrefixOpen: flooders fill two /24s where nobody plays
// yet, and a third holds a few; in one, a light source fetches a master
// playlist each second, as a viewer starting does. Every flooder is
// blocked, no /24 whole. The /24 of flooders only is challenged (its
// other addresses may hold a viewer arriving); the one with the newcomer
// and the one with few flooders are not.
func TestNewcomerKeepsPrefixOpen(t *testing.T) {
	w, v := baselineWorld(t)
	flood := getFlood(append(sources([2]byte{172, 16}, 40), sources([2]byte{172, 17}, 40)...), 200)
	flood.on = true
	newcomer := netip.MustParseAddr("172.16.0.200")
	r := request("GET", "/live/master.m3u8", "", viewerHeader)
	arriving := &attacker{sources: []netip.Addr{newcomer}, rate: 1, on: true,
		emit: func(w *world, s netip.Addr) { w.observe(s, telemetry.ClassMaster, telemetry.OutcomeHit, 200, r) }}
	few := getFlood(sources([2]byte{172, 18}, 8), 200)
	few.on = true
	w.pops = append(w.pops, flood, arriving, few)
	w.run(5)
	for _, p := range []string{"172.16.0.0/24", "172.17.0.0/24", "172.18.0.0/24"} {
		if _, ok := w.act.active["detect/block_prefix/"+p]; ok {
			t.Errorf("%s is blocked whole", p)
		}
	}
	for _, a := range []string{"172.16.0.1", "172.17.0.1", "172.18.0.1"} {
		if _, ok := w.act.active["detect/block_prefix/"+a+"/32"]; !ok {
			t.Errorf("flooder %s is not blocked", a)
		}
	}
	if _, ok := w.act.active["detect/challenge_prefix/172.17.0.0/24"]; !ok {
		t.Error("the prefix of flooders only is not challenged")
	}
	for _, p := range []string{"172.16.0.0/24", "172.18.0.0/24"} {
		if _, ok := w.act.active["detect/challenge_prefix/"+p]; ok {
			t.Errorf("%s is challenged though it holds a newcomer or few flooders", p)
		}
	}
	if t.Failed() {
		t.Logf("decisions: %v", w.d.Status().Decisions)
	}
	checkViewersSpared(t, w, v)
}

// TestCrowdBehindNAT: a kickoff where a third of the viewers share one
// address (a carrier's NAT), each player on its own connection. The
// address is heavy, all media at a player's pace: a crowd, no mitigation.
func TestCrowdBehindNAT(t *testing.T) {
	w := newWorld(t)
	ramp := func(sec int) int {
		switch {
		case sec < 30:
			return 2
		case sec < 60:
			return 2 + (sec-30)*20/29
		default:
			return 4
		}
	}
	nat := &viewers{nat: netip.MustParseAddr("10.9.9.9"), joins: ramp}
	others := &viewers{base: viewerBase, joins: func(sec int) int { return 2 * ramp(sec) }}
	w.pops = append(w.pops, nat, others)
	for range 80 {
		w.step()
		if st := w.d.Status(); st.Verdict == UnderAttack || len(st.Pending) > 0 {
			t.Fatalf("second %d (%d viewers behind the NAT): verdict %s attacks %+v pending %v",
				w.sec, len(nat.joined), st.Verdict, st.Attacks, st.Pending)
		}
	}
	if len(w.act.applied) != 0 {
		t.Fatalf("a crowd behind a NAT applied %d mitigations: %+v", len(w.act.applied), w.act.applied[0])
	}
	t.Logf("%d viewers behind one address, last verdict %s", len(nat.joined), w.d.Status().Verdict)
}

// TestBudgetVetoNAT floods from the very address most viewers share: no
// block at all.
func TestBudgetVetoNAT(t *testing.T) {
	w := newWorld(t)
	nat := netip.MustParseAddr("10.9.9.9")
	w.pops = append(w.pops, &viewers{nat: nat, joins: func(sec int) int { return map[bool]int{true: 5}[sec < 30] }})
	w.pops = append(w.pops, &viewers{base: viewerBase, joins: func(sec int) int { return map[bool]int{true: 1}[sec < 30] }})
	w.run(30)
	flood := getFlood([]netip.Addr{nat}, 3000)
	flood.on = true
	w.pops = append(w.pops, flood)
	w.run(5)
	if st := w.d.Status(); !hasAttack(st, GetFlood) {
		t.Fatalf("flood not detected: %+v", st)
	}
	for _, m := range w.act.Active(w.now) {
		if m.Kind == mitigation.BlockPrefix {
			t.Fatalf("blocked %s though it carries most viewers", m.Prefix)
		}
	}
	if w.d.Stats().Vetoed.Load() < 2 {
		t.Fatalf("vetoed %d, want the prefix and the address", w.d.Stats().Vetoed.Load())
	}
}

func TestOriginFailure(t *testing.T) {
	w, v := baselineWorld(t)
	w.pops = []population{failing{v}}
	w.run(3)
	if st := w.d.Status(); st.Verdict != OriginFailure || len(w.act.applied) != 0 {
		t.Fatalf("verdict %s (%s), %d mitigations", st.Verdict, st.Reason, len(w.act.applied))
	}
}

// failing turns the viewers' answers into stale copies and errors.
type failing struct{ v *viewers }

func (f failing) second(w *world) {
	for i := range f.v.joined {
		o := telemetry.OutcomeStale
		if i%2 == 0 {
			o = telemetry.OutcomeError
		}
		w.observe(f.v.addr(i), telemetry.ClassMedia, o, 200, request("GET", "/live/720p/index.m3u8", "", viewerHeader))
	}
}

func TestApplyErrorCounted(t *testing.T) {
	w, _ := baselineWorld(t)
	w.act.fail = true
	a := getFlood(sources([2]byte{203, 0}, 4), 100)
	a.on = true
	w.pops = append(w.pops, a)
	w.run(3)
	if w.d.Stats().Failed.Load() == 0 || len(w.d.Status().Active) != 0 {
		t.Fatalf("failed %d active %d", w.d.Stats().Failed.Load(), len(w.d.Status().Active))
	}
}

// TestMemoryBounded observes a million distinct sources and checks the
// heap did not grow with them.
func TestMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	w := newWorld(t)
	r := request("GET", "/live/master.m3u8", "", chromeHeader)
	var rec telemetry.Record
	observe := func(from, seconds int) {
		for sec := range seconds {
			for i := range 100_000 {
				n := from + sec*100_000 + i
				rec = telemetry.Record{Client: netip.AddrFrom4([4]byte{byte(20 + n>>24), byte(n >> 16), byte(n >> 8), byte(n)}),
					Class: telemetry.ClassMaster, Outcome: telemetry.OutcomeHit, Status: 200}
				w.d.Observe(&rec, r, w.now)
			}
			w.now = w.now.Add(time.Second)
			w.d.Tick(w.now)
		}
	}
	observe(0, 2) // warm every table
	before := heap()
	observe(200_000, 10) // a million more
	after := heap()
	t.Logf("heap %d KiB → %d KiB over a million more distinct sources", before>>10, after>>10)
	if after > before+8<<20 {
		t.Fatalf("heap grew by %d KiB", (after-before)>>10)
	}
	if ev := w.d.Status().Evidence; ev.Sources < 90_000 || ev.Sources > 110_000 {
		t.Errorf("distinct sources a second ≈ %.0f, want ≈ 100000", ev.Sources)
	}
}

func heap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func TestRunStops(t *testing.T) {
	d := New(config.Detect{Interval: 5 * time.Millisecond}, newFakeActuator(), nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for d.Stats().Ticks.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if d.Stats().Ticks.Load() < 2 {
		t.Fatal("Run did not tick")
	}
}

func TestObserveAllocs(t *testing.T) {
	d := New(config.Detect{}, newFakeActuator(), nil, nil)
	r := request("GET", "/live/720p/seg1.ts", "ticket=1", viewerHeader)
	rec := telemetry.Record{Start: time.Now(), Client: netip.MustParseAddr("10.1.2.3"),
		Class: telemetry.ClassSegment, Outcome: telemetry.OutcomeHit, Status: 200}
	now := time.Now()
	if n := testing.AllocsPerRun(1000, func() { d.Observe(&rec, r, now) }); n != 0 {
		t.Fatalf("Observe allocates %.1f times", n)
	}
}

func BenchmarkObserve(b *testing.B) {
	d := New(config.Detect{}, newFakeActuator(), nil, nil)
	r := request("GET", "/live/720p/seg1.ts", "ticket=1", viewerHeader)
	now := time.Now()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		rec := telemetry.Record{Start: now, Class: telemetry.ClassSegment, Outcome: telemetry.OutcomeHit, Status: 200}
		i := 0
		for pb.Next() {
			i++
			rec.Client = netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
			d.Observe(&rec, r, now)
		}
	})
}

// BenchmarkObserveViewers is the common path: a few thousand known
// viewers, one goroutine.
func BenchmarkObserveViewers(b *testing.B) {
	d := New(config.Detect{}, newFakeActuator(), nil, nil)
	r := request("GET", "/live/720p/seg1.ts", "ticket=1", viewerHeader)
	now := time.Now()
	rec := telemetry.Record{Start: now, Class: telemetry.ClassSegment, Outcome: telemetry.OutcomeHit, Status: 200}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i = (i + 1) % 5000
		rec.Client = addr(viewerBase, i)
		d.Observe(&rec, r, now)
	}
}

// TestBotnetSharingViewersFingerprint: bots with the viewers' own
// fingerprint cannot be throttled by it (veto); attack mode instead, and
// no prefix block (it would refuse viewers arriving in those prefixes).
func TestBotnetSharingViewersFingerprint(t *testing.T) {
	w, v := baselineWorld(t)
	r := request("GET", "/live/master.m3u8", "", viewerHeader)
	bots := &attacker{sources: sources([2]byte{100, 64}, 3000), rate: 1, on: true,
		emit: func(w *world, s netip.Addr) { w.observe(s, telemetry.ClassMaster, telemetry.OutcomeHit, 200, r) }}
	w.pops = append(w.pops, bots)
	w.run(3)
	k := w.act.kinds()
	if !hasAttack(w.d.Status(), Botnet) || k[mitigation.ThrottleFingerprint] != 0 || k[mitigation.AttackMode] != 1 ||
		k[mitigation.BlockPrefix] != 0 {
		t.Fatalf("attacks %+v, mitigations %v", w.d.Status().Attacks, k)
	}
	checkViewersSpared(t, w, v)
}

// TestMixed runs siege's mixed scenario in small: every attack at once,
// the floods' sources in the viewers' own /24s as siege's are.
func TestMixed(t *testing.T) {
	w, v := baselineWorld(t)
	shared := func(n int) []netip.Addr { // addresses past the viewers' in their /24s
		out := make([]netip.Addr, n)
		for i := range out {
			out[i] = addr(viewerBase, 254*(i%3)+200+i/3)
		}
		return out
	}
	attacks := []*attacker{
		getFlood(shared(12), 100),
		cacheBust(sources([2]byte{198, 18}, 10), 60),
		loginFlood(sources([2]byte{198, 19}, 10), 60),
		botnetOf(sources([2]byte{100, 64}, 3000)),
	}
	for _, a := range attacks {
		a.on = true
		w.pops = append(w.pops, a)
	}
	w.run(3)
	st := w.d.Status()
	for _, c := range []AttackClass{GetFlood, CacheBust, LoginFlood, Botnet} {
		if !hasAttack(st, c) {
			t.Errorf("%s not detected: %+v", c, st.Attacks)
		}
	}
	k := w.act.kinds()
	// The login flood's heavy sources are blocked, so its route stays open.
	for _, kind := range []mitigation.Kind{mitigation.BlockPrefix, mitigation.StripParams,
		mitigation.ThrottleFingerprint} {
		if k[kind] == 0 {
			t.Errorf("no %s: %v", kind, k)
		}
	}
	checkViewersSpared(t, w, v)
	t.Logf("mitigations %v, vetoed %d", k, w.d.Stats().Vetoed.Load())
}

// TestAbsorbedBustingIsNotAnAttack: random query strings the cache already
// ignores (they all hit) cost the origin nothing; the detector must not
// call them cache busting nor mitigate them.
func TestAbsorbedBustingIsNotAnAttack(t *testing.T) {
	w, _ := baselineWorld(t)
	absorbed := &attacker{sources: sources([2]byte{198, 18}, 20), rate: 60, on: true, emit: func(w *world, s netip.Addr) {
		q := fmt.Sprintf("xq%d=%x", w.rnd.IntN(1000), w.rnd.Uint64())
		w.observe(s, telemetry.ClassSegment, telemetry.OutcomeHit, 200, request("GET", "/live/a/7.ts", q, chromeHeader))
	}}
	w.pops = append(w.pops, absorbed)
	w.run(5)
	if st := w.d.Status(); hasAttack(st, CacheBust) || w.act.kinds()[mitigation.StripParams] > 0 {
		t.Fatalf("absorbed busting judged an attack: verdict %s attacks %+v kinds %v", st.Verdict, st.Attacks, w.act.kinds())
	}
}

// saturated: the kickoff's newcomers meet an edge that cannot answer:
// their master playlists time out (error, no status) and players retry
// three times a second; viewers already playing get half their media
// requests through.
type saturated struct {
	v     *viewers
	since int
}

func (p *saturated) second(w *world) {
	r := request("GET", "/live/master.m3u8", "", viewerHeader)
	media := request("GET", "/live/720p/index.m3u8", "", viewerHeader)
	for i, j := range p.v.joined {
		w.conn = i
		if j >= p.since {
			for range 3 {
				w.observe(p.v.addr(i), telemetry.ClassMaster, telemetry.OutcomeError, 504, r)
			}
			continue
		}
		o, st := telemetry.OutcomeHit, 200
		if i%2 == 0 {
			o, st = telemetry.OutcomeError, 504
		}
		w.observe(p.v.addr(i), telemetry.ClassMedia, o, st, media)
	}
	w.conn = 0
}

// TestSaturatedCrowdIsNoAttack: a kickoff meets an edge that cannot answer.
// Newcomers retry the master playlist three times a second while it times
// out, so their fingerprint is far above its baseline and barely
// player-like: the shape of a botnet sharing the viewers' fingerprint. The
// requests mostly fail, though, and that is the verdict: no attack, no
// attack mode challenging the crowd for the edge's fault.
func TestSaturatedCrowdIsNoAttack(t *testing.T) {
	w, v := baselineWorld(t)
	v.joins = func(sec int) int { return 5 + (sec-30)*2 }
	w.pops = []population{&joinOnly{v}, &saturated{v: v, since: 30}}
	for range 20 {
		w.step()
		if st := w.d.Status(); st.Verdict == UnderAttack {
			t.Fatalf("second %d, %d viewers: verdict %s %+v", w.sec, len(v.joined), st.Verdict, st.Attacks)
		}
	}
	if len(w.act.applied) != 0 {
		t.Fatalf("a saturated crowd applied %d mitigations: %+v", len(w.act.applied), w.act.applied[0])
	}
	t.Logf("verdict %s: %s", w.d.Status().Verdict, w.d.Status().Reason)
}

// joinOnly adds arrivals without emitting their requests.
type joinOnly struct{ v *viewers }

func (j *joinOnly) second(w *world) {
	for range j.v.joins(w.sec) {
		j.v.joined = append(j.v.joined, w.sec)
	}
}
