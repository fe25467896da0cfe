package detect

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/mitigation"
	"github.com/rempart/rempart/internal/telemetry"
)

// fakeActuator records what the detector applies and lifts.
type fakeActuator struct {
	mu      sync.Mutex
	active  map[string]mitigation.Mitigation
	applied []mitigation.Mitigation // first applications, in order
	lifted  []string
	fail    bool
}

func newFakeActuator() *fakeActuator {
	return &fakeActuator{active: map[string]mitigation.Mitigation{}}
}

func (a *fakeActuator) Apply(m mitigation.Mitigation) (mitigation.Mitigation, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail {
		return m, errors.New("actuator down")
	}
	if _, ok := a.active[m.ID]; !ok {
		a.applied = append(a.applied, m)
	}
	a.active[m.ID] = m
	return m, nil
}

func (a *fakeActuator) Lift(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.active[id]
	delete(a.active, id)
	a.lifted = append(a.lifted, id)
	return ok
}

func (a *fakeActuator) Active(time.Time) []mitigation.Mitigation {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []mitigation.Mitigation
	for _, m := range a.active {
		out = append(out, m)
	}
	return out
}

func (a *fakeActuator) kinds() map[mitigation.Kind]int {
	a.mu.Lock()
	defer a.mu.Unlock()
	k := map[mitigation.Kind]int{}
	for _, m := range a.active {
		k[m.Kind]++
	}
	return k
}

// world drives a detector with synthetic seconds of traffic shaped like
// siege's populations.
type world struct {
	t    testing.TB
	d    *Detector
	act  *fakeActuator
	now  time.Time
	sec  int
	pops []population
	rnd  *rand.Rand
	rec  telemetry.Record
	// conn is the connection of the client about to be observed, among
	// those of its address; populations set it, 0 by default. Repeats
	// counts what each connection asked this second, as the identity
	// stage does.
	conn    int
	repeats map[connURL]int
}

// connURL is one URL on one connection of one address.
type connURL struct {
	src         netip.Addr
	conn        int
	path, query string
}

// population emits one second of its requests.
type population interface {
	second(w *world)
}

func newWorld(t testing.TB) *world {
	act := newFakeActuator()
	now := time.Date(2026, 6, 14, 20, 0, 0, 0, time.UTC)
	cfg := config.Detect{Interval: time.Second, Baseline: 10 * time.Minute,
		MitigationTTL: 2 * time.Minute, FalsePositiveBudget: 0.01}
	w := &world{t: t, act: act, now: now, rnd: rand.New(rand.NewPCG(1, 2)), repeats: map[connURL]int{}}
	w.d = New(cfg, act, nil, func() time.Time { return w.now })
	return w
}

// step runs one second: every population's requests, then the tick.
func (w *world) step() {
	for _, p := range w.pops {
		p.second(w)
	}
	w.now = w.now.Add(time.Second)
	w.sec++
	clear(w.repeats)
	w.d.Tick(w.now)
}

func (w *world) run(seconds int) {
	for range seconds {
		w.step()
	}
}

// observe sends one finished request; r may be nil (refused before HTTP).
func (w *world) observe(client netip.Addr, class telemetry.Class, o telemetry.Outcome, status int, r *http.Request) {
	w.rec = telemetry.Record{Start: w.now.Add(-5 * time.Millisecond), Client: client, Class: class,
		Outcome: o, Status: status}
	if o == telemetry.OutcomeRefused && r == nil {
		w.rec.Stage = "guard"
	}
	if r != nil {
		k := connURL{client, w.conn, r.URL.Path, r.URL.RawQuery}
		w.repeats[k]++
		w.rec.Repeats = w.repeats[k]
	}
	w.d.Observe(&w.rec, r, w.now)
}

func request(method, path, query string, h http.Header) *http.Request {
	return &http.Request{Method: method, URL: &url.URL{Path: path, RawQuery: query}, Header: h,
		ProtoMajor: 1, ProtoMinor: 1}
}

var (
	viewerHeader = http.Header{"User-Agent": {"rempart-siege/1"}, "Accept": {"*/*"}}
	chromeHeader = http.Header{"User-Agent": {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0 Safari/537.36"},
		"Accept": {"*/*"}, "Connection": {"keep-alive"}}
)

// addr returns the i-th address of a /16 base, 254 hosts per /24.
func addr(base [2]byte, i int) netip.Addr {
	return netip.AddrFrom4([4]byte{base[0], base[1] + byte(i/254/256), byte(i / 254), byte(i%254 + 1)})
}

// viewers are live players: a join fetches the master playlist, the media
// playlist and two segments; then every 2 s (the target duration) the media
// playlist and the next segment. Each carries its own waiting-room ticket
// in the query, as siege's viewers do.
type viewers struct {
	base    [2]byte
	joins   func(sec int) int // arrivals in second sec
	joined  []int             // second each viewer joined
	nat     netip.Addr        // when valid, every viewer shares this address
	stopped bool
	// stalled: the stream stopped advancing; each player reloads its
	// playlist every second (half the target duration) and finds no
	// segment to ask.
	stalled bool
}

func (v *viewers) second(w *world) {
	if v.stopped {
		return
	}
	for range v.joins(w.sec) {
		v.joined = append(v.joined, w.sec)
	}
	seg := w.sec / 2
	for i, j := range v.joined {
		a := v.addr(i)
		w.conn = i // each player keeps its own connection
		ticket := fmt.Sprintf("ticket=%d", i)
		media := request("GET", "/live/720p/index.m3u8", ticket, viewerHeader)
		if v.stalled {
			w.observe(a, telemetry.ClassMedia, telemetry.OutcomeHit, 200, media)
			continue
		}
		if j == w.sec {
			w.observe(a, telemetry.ClassMaster, telemetry.OutcomeHit, 200, request("GET", "/live/master.m3u8", ticket, viewerHeader))
			w.observe(a, telemetry.ClassMedia, telemetry.OutcomeHit, 200, media)
			for k := seg - 2; k < seg; k++ {
				w.observe(a, telemetry.ClassSegment, telemetry.OutcomeHit, 200,
					request("GET", fmt.Sprintf("/live/720p/seg%d.ts", k), ticket, viewerHeader))
			}
			continue
		}
		if (w.sec-j)%2 == 0 {
			w.observe(a, telemetry.ClassMedia, telemetry.OutcomeHit, 200, media)
			w.observe(a, telemetry.ClassSegment, telemetry.OutcomeHit, 200,
				request("GET", fmt.Sprintf("/live/720p/seg%d.ts", seg), ticket, viewerHeader))
		}
	}
	w.conn = 0
}

func (v *viewers) addr(i int) netip.Addr {
	if v.nat.IsValid() {
		return v.nat
	}
	return addr(v.base, i)
}

// attacker sends rate requests a second from each source while on, spread
// over conns keep-alive connections per source (one when 0).
type attacker struct {
	sources []netip.Addr
	rate    int
	conns   int
	on      bool
	emit    func(w *world, src netip.Addr)
}

func (a *attacker) second(w *world) {
	if !a.on {
		return
	}
	for _, s := range a.sources {
		for i := range a.rate {
			w.conn = i % max(a.conns, 1)
			a.emit(w, s)
		}
	}
	w.conn = 0
}

func sources(base [2]byte, n int) []netip.Addr {
	out := make([]netip.Addr, n)
	for i := range out {
		out[i] = addr(base, i)
	}
	return out
}

func getFlood(srcs []netip.Addr, rate int) *attacker {
	r := request("GET", "/live/master.m3u8", "", chromeHeader)
	return &attacker{sources: srcs, rate: rate, emit: func(w *world, s netip.Addr) {
		w.observe(s, telemetry.ClassMaster, telemetry.OutcomeHit, 200, r)
	}}
}

// mediaFlood repeats what players fetch, the 720p media playlist, over
// conns connections per source.
func mediaFlood(srcs []netip.Addr, rate, conns int) *attacker {
	r := request("GET", "/live/720p/index.m3u8", "", chromeHeader)
	return &attacker{sources: srcs, rate: rate, conns: conns, emit: func(w *world, s netip.Addr) {
		w.observe(s, telemetry.ClassMedia, telemetry.OutcomeHit, 200, r)
	}}
}

func cacheBust(srcs []netip.Addr, rate int) *attacker {
	return &attacker{sources: srcs, rate: rate, emit: func(w *world, s netip.Addr) {
		q := fmt.Sprintf("xq%d=%x", w.rnd.IntN(1000), w.rnd.Uint64())
		w.observe(s, telemetry.ClassMaster, telemetry.OutcomeMiss, 200, request("GET", "/live/master.m3u8", q, chromeHeader))
	}}
}

func loginFlood(srcs []netip.Addr, rate int) *attacker {
	r := request("POST", "/api/login", "", chromeHeader)
	return &attacker{sources: srcs, rate: rate, emit: func(w *world, s netip.Addr) {
		w.observe(s, telemetry.ClassAPI, telemetry.OutcomePass, 401, r)
	}}
}

func botnetOf(srcs []netip.Addr) *attacker {
	r := request("GET", "/live/master.m3u8", "", chromeHeader)
	return &attacker{sources: srcs, rate: 1, emit: func(w *world, s netip.Addr) {
		w.observe(s, telemetry.ClassMaster, telemetry.OutcomeHit, 200, r)
	}}
}

func connFlood(srcs []netip.Addr, rate int) *attacker {
	return &attacker{sources: srcs, rate: rate, emit: func(w *world, s netip.Addr) {
		w.observe(s, telemetry.ClassUnknown, telemetry.OutcomeRefused, 503, nil)
	}}
}
