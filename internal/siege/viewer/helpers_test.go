package viewer

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/siege/sim"
	"github.com/rempart/rempart/internal/synth"
)

// fakeRec records everything a model reports.
type fakeRec struct {
	mu      sync.Mutex
	reqs    []recReq
	states  []sim.State // every "to" state, in order
	viewers []sim.ViewerSummary
	segs    map[string]int // sim.SegmentCounter
}

func (r *fakeRec) Segment(pop int, uri string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.segs == nil {
		r.segs = map[string]int{}
	}
	r.segs[uri]++
}

type recReq struct {
	kind     sim.Kind
	intended time.Time
	latency  time.Duration
	status   int
	bytes    int64
	err      error
}

func (r *fakeRec) Request(pop int, kind sim.Kind, intended time.Time, latency time.Duration, status int, bytes int64, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, recReq{kind, intended, latency, status, bytes, err})
}

func (r *fakeRec) State(pop int, from, to sim.State) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.states = append(r.states, to)
}

func (r *fakeRec) Viewer(pop int, v sim.ViewerSummary) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.viewers = append(r.viewers, v)
}

func (r *fakeRec) Conn(pop int, delta int) {}

func (r *fakeRec) summary(t *testing.T) sim.ViewerSummary {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.viewers) != 1 {
		t.Fatalf("%d summaries, want 1", len(r.viewers))
	}
	return r.viewers[0]
}

func (r *fakeRec) count(kind sim.Kind) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, q := range r.reqs {
		if q.kind == kind {
			n++
		}
	}
	return n
}

func (r *fakeRec) stateList() []sim.State {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sim.State(nil), r.states...)
}

// startSynth serves the synthetic origin with 1-second segments, wrapped
// by wrap when not nil.
func startSynth(t testing.TB, latency time.Duration, wrap func(http.Handler) http.Handler) *httptest.Server {
	t.Helper()
	s, err := synth.New(synth.Options{SegmentDuration: time.Second, Window: 6, Latency: latency})
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = s
	if wrap != nil {
		h = wrap(s)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts
}

// newEnv returns an Env aimed at target, dialing from each client's
// source address.
func newEnv(t testing.TB, target string, params ...sim.Params) (*sim.Env, *fakeRec) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rec := &fakeRec{}
	return &sim.Env{
		Target: u, Params: params, Now: time.Now, Budget: sim.NewBudget(1 << 40), Rec: rec,
		Dial: func(ctx context.Context, src netip.Addr) (net.Conn, error) {
			d := net.Dialer{Timeout: 2 * time.Second}
			if src.IsValid() {
				d.LocalAddr = &net.TCPAddr{IP: src.AsSlice()}
			}
			return d.DialContext(ctx, "tcp", u.Host)
		},
	}, rec
}

// run runs model m for one client and returns how long Run took.
func run(ctx context.Context, m sim.Model, env *sim.Env, c sim.Client) time.Duration {
	if c.Intended.IsZero() {
		c.Intended = time.Now()
	}
	start := time.Now()
	m.Run(ctx, env, c)
	return time.Since(start)
}

func src(last byte) netip.Addr { return netip.AddrFrom4([4]byte{127, 0, 0, last}) }
