package runner

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/rempart/rempart/internal/siege/scenario"
	"github.com/rempart/rempart/internal/siege/sim"
)

// started records every client the runner started: its identity and when
// Run was called.
type started struct {
	mu      sync.Mutex // guards clients, at
	clients []sim.Client
	at      []time.Time
}

func (s *started) Run(ctx context.Context, env *sim.Env, c sim.Client) {
	s.mu.Lock()
	s.clients = append(s.clients, c)
	s.at = append(s.at, env.Now())
	s.mu.Unlock()
}

// flood sends one GET per client through env.Dial from the client's
// source address, like an attacker model.
type flood struct{}

func (flood) Run(ctx context.Context, env *sim.Env, c sim.Client) {
	if !env.Budget.Take() {
		return
	}
	tr := &http.Transport{
		DialContext:       func(ctx context.Context, _, _ string) (net.Conn, error) { return env.Dial(ctx, c.Source) },
		DisableKeepAlives: true,
	}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, env.Target.String()+"/x", nil)
	req.Host = env.Host
	status, n := 0, int64(0)
	resp, err := tr.RoundTrip(req)
	if err == nil {
		n, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		status = resp.StatusCode
	}
	env.Rec.Request(c.Pop, sim.KindAttack, c.Intended, env.Now().Sub(c.Intended), status, n, err)
}

// waiter holds its client until ctx is done.
type waiter struct{}

func (waiter) Run(ctx context.Context, _ *sim.Env, _ sim.Client) { <-ctx.Done() }

func oneStep(model string, rate float64, d time.Duration) *scenario.Scenario {
	return &scenario.Scenario{
		Name: "test", MaxDuration: time.Minute, MaxRequests: 1 << 40, MaxClients: scenario.DefaultMaxClients,
		Populations: []scenario.Population{{Name: "p", Model: model, Role: scenario.RoleAttacker}},
		Phases:      []scenario.Phase{{Name: "only", Duration: d, Arrivals: []scenario.Arrival{{Pop: 0, From: rate, To: rate}}}},
	}
}

func TestArrivalsExact(t *testing.T) {
	tests := []struct {
		from, to float64
		d        time.Duration
		perSec   []int
	}{
		{50, 50, 2 * time.Second, []int{50, 50}},
		{50, 150, 2 * time.Second, []int{75, 125}},
		{150, 50, 2 * time.Second, []int{125, 75}},
		{0, 100, 2 * time.Second, []int{25, 75}},
		{0.5, 0.5, 4 * time.Second, []int{1, 0, 1, 0}},
	}
	for _, tt := range tests {
		a := newArrivals(scenario.Arrival{From: tt.from, To: tt.to}, tt.d)
		got := make([]int, len(tt.perSec))
		prev := time.Duration(-1)
		for k := range a.n {
			at := a.at(k)
			if at < prev || at > tt.d {
				t.Fatalf("%v→%v: arrival %d at %s after %s", tt.from, tt.to, k, at, prev)
			}
			prev = at
			got[int(at/time.Second)]++
		}
		for i := range got {
			if d := got[i] - tt.perSec[i]; d < -1 || d > 1 {
				t.Errorf("%v→%v: second %d: %d arrivals, want %d", tt.from, tt.to, i, got[i], tt.perSec[i])
			}
		}
	}
}

// TestArrivalsFollowRateAndRamp runs a constant phase and a ramp and counts
// clients per second of their actual start.
func TestArrivalsFollowRateAndRamp(t *testing.T) {
	defer goleak.VerifyNone(t)
	rec := &started{}
	s := oneStep("started", 100, 2*time.Second)
	s.Phases = append(s.Phases, scenario.Phase{Name: "ramp", Duration: 2 * time.Second,
		Arrivals: []scenario.Arrival{{Pop: 0, From: 100, To: 300}}})
	rep, err := Run(context.Background(), Config{Scenario: s, Models: map[string]sim.Model{"started": rec}, Target: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stopped != StopCompleted || len(rep.Phases) != 2 {
		t.Errorf("stopped %q, phases %+v", rep.Stopped, rep.Phases)
	}
	want := []int{100, 100, 150, 250}
	got := make([]int, 4)
	first := rec.clients[0].Intended.Add(-5 * time.Millisecond) // the first is due at 1/(2·rate)
	for i, at := range rec.at {
		sec := int(at.Sub(first) / time.Second)
		if sec < len(got) {
			got[sec]++
		}
		if late := at.Sub(rec.clients[i].Intended); late < 0 || late > 200*time.Millisecond {
			t.Errorf("client %d started %s after its intended time", i, late)
		}
	}
	for i := range want {
		if d := float64(got[i]-want[i]) / float64(want[i]); d < -0.1 || d > 0.1 {
			t.Errorf("second %d: %d clients, want %d ±10%% (all: %v)", i, got[i], want[i], got)
		}
	}
	if rep.Pops[0].Clients != 600 {
		t.Errorf("report counts %d clients, want 600", rep.Pops[0].Clients)
	}
}

// TestIntended checks that Intended is the schedule, not the start: with a
// constant rate, consecutive clients are exactly 1/rate apart.
func TestIntended(t *testing.T) {
	rec := &started{}
	s := oneStep("started", 200, 500*time.Millisecond)
	if _, err := Run(context.Background(), Config{Scenario: s, Models: map[string]sim.Model{"started": rec}, Target: "127.0.0.1:1"}); err != nil {
		t.Fatal(err)
	}
	if len(rec.clients) != 100 {
		t.Fatalf("%d clients, want 100", len(rec.clients))
	}
	byID := make([]sim.Client, len(rec.clients))
	for _, c := range rec.clients {
		byID[c.ID] = c
	}
	for i := 1; i < len(byID); i++ {
		if gap := byID[i].Intended.Sub(byID[i-1].Intended); gap < 5*time.Millisecond-time.Microsecond || gap > 5*time.Millisecond+time.Microsecond {
			t.Fatalf("clients %d and %d intended %s apart, want 5ms", i-1, i, gap)
		}
	}
}

func countingServer(t *testing.T) (*httptest.Server, *atomic.Int64, func() map[string]bool) {
	var n atomic.Int64
	var mu sync.Mutex
	ips := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		mu.Lock()
		ips[host] = true
		mu.Unlock()
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv, &n, func() map[string]bool { mu.Lock(); defer mu.Unlock(); return ips }
}

func TestBudgetStopsTheRun(t *testing.T) {
	srv, n, _ := countingServer(t)
	s := oneStep("flood", 500, 20*time.Second)
	s.MaxRequests = 100
	begin := time.Now()
	rep, err := Run(context.Background(), Config{Scenario: s, Models: map[string]sim.Model{"flood": flood{}}, Target: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stopped != StopBudget || time.Since(begin) > 5*time.Second {
		t.Errorf("stopped %q after %s, want %q quickly", rep.Stopped, time.Since(begin), StopBudget)
	}
	if got := n.Load(); got > 100 || rep.Pops[0].Requests > 100 {
		t.Errorf("server saw %d requests, report %d, budget 100", got, rep.Pops[0].Requests)
	}
	// --max-requests overrides the scenario.
	n.Store(0)
	rep, _ = Run(context.Background(), Config{Scenario: s, Models: map[string]sim.Model{"flood": flood{}}, Target: srv.URL, MaxRequests: 20})
	if rep.Stopped != StopBudget || n.Load() > 20 {
		t.Errorf("--max-requests 20: stopped %q, %d requests", rep.Stopped, n.Load())
	}
}

func TestMaxDurationStopsTheRun(t *testing.T) {
	s := oneStep("wait", 10, time.Minute)
	s.MaxDuration = 400 * time.Millisecond
	begin := time.Now()
	rep, err := Run(context.Background(), Config{Scenario: s, Models: map[string]sim.Model{"wait": waiter{}}, Target: "[::1]:1"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stopped != StopMaxDuration || time.Since(begin) > 3*time.Second {
		t.Errorf("stopped %q after %s", rep.Stopped, time.Since(begin))
	}
	// --max-duration replaces the scenario's cap.
	s.MaxDuration = time.Hour
	rep, _ = Run(context.Background(), Config{Scenario: s, Models: map[string]sim.Model{"wait": waiter{}}, Target: "[::1]:1", MaxDuration: 300 * time.Millisecond})
	if rep.Stopped != StopMaxDuration || rep.Seconds > 3 {
		t.Errorf("--max-duration: stopped %q after %.1fs", rep.Stopped, rep.Seconds)
	}
}

func TestCancelStillReports(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv, _, _ := countingServer(t)
	s := oneStep("flood", 200, time.Minute)
	s.Populations = append(s.Populations, scenario.Population{Name: "w", Model: "wait", Role: scenario.RoleViewer})
	s.Phases[0].Arrivals = append(s.Phases[0].Arrivals, scenario.Arrival{Pop: 1, From: 50, To: 50})
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	rep, err := Run(ctx, Config{Scenario: s, Models: map[string]sim.Model{"flood": flood{}, "wait": waiter{}}, Target: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stopped != StopInterrupted || rep.Pops[0].Requests == 0 || len(rep.Series) == 0 || rep.Pops[1].Viewers == nil {
		t.Errorf("stopped %q, %d requests, %d seconds, viewers %v", rep.Stopped, rep.Pops[0].Requests, len(rep.Series), rep.Pops[1].Viewers)
	}
	srv.Close()
}

func TestDistinctSourceAddresses(t *testing.T) {
	if testing.Short() {
		t.Skip("1000 connections")
	}
	if c, err := (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, 1)}}).Dial("tcp", "127.0.0.1:1"); err != nil && errors.Is(err, errAddrNotAvail(err)) {
		t.Skip("this system cannot send from 127.0.1.1")
	} else if c != nil {
		c.Close()
	}
	srv, n, ips := countingServer(t)
	s := oneStep("flood", 1000, time.Second)
	// A quiet phase lets the last clients finish before the run ends.
	s.Phases = append(s.Phases, scenario.Phase{Name: "tail", Duration: 500 * time.Millisecond})
	rep, err := Run(context.Background(), Config{Scenario: s, Models: map[string]sim.Model{"flood": flood{}}, Target: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(ips()); got < 1000 {
		t.Errorf("server saw %d distinct client addresses from %d requests (report: %v), want ≥ 1000", got, n.Load(), rep.Pops[0].Status)
	}
}

// errAddrNotAvail returns err when it is "cannot assign requested address".
func errAddrNotAvail(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" && op.Addr == nil {
		return err
	}
	return errors.New("other")
}

func TestSourceAddr(t *testing.T) {
	tests := []struct {
		i    int64
		want string
	}{
		{0, "127.0.1.1"}, {253, "127.0.1.254"}, {254, "127.0.2.1"},
		{254 * 255, "127.1.0.1"}, {254*65535 - 1, "127.255.255.254"}, {254 * 65535, "127.0.1.1"},
	}
	for _, tt := range tests {
		if got := SourceAddr(tt.i); got.String() != tt.want {
			t.Errorf("SourceAddr(%d) = %s, want %s", tt.i, got, tt.want)
		}
	}
	seen := map[netip.Addr]bool{}
	for i := range int64(100_000) {
		a := SourceAddr(i).As4()
		if a[3] == 0 || a[3] == 255 || (a[1] == 0 && a[2] == 0) || seen[SourceAddr(i)] {
			t.Fatalf("SourceAddr(%d) = %v: reserved or repeated", i, a)
		}
		seen[SourceAddr(i)] = true
	}
}

type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := f[host]; ok {
		return a, nil
	}
	return nil, errors.New("no such host")
}

func TestTargetSafety(t *testing.T) {
	res := fakeResolver{
		"localhost":        {netip.MustParseAddr("::1"), netip.MustParseAddr("127.0.0.1")},
		"elsewhere.test":   {netip.MustParseAddr("93.184.216.34")},
		"half.test":        {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("10.1.2.3")},
		"mapped.test":      {netip.MustParseAddr("::ffff:127.0.0.2")},
		"private.loopback": {netip.MustParseAddr("127.9.9.9")},
	}
	tests := []struct {
		target   string
		own      bool
		wantAddr string // "" when refused
	}{
		{"http://127.0.0.1:8080", false, "127.0.0.1:8080"},
		{"127.0.0.1:8080", false, "127.0.0.1:8080"},
		{"http://[::1]:8080/prefix/", false, "[::1]:8080"},
		{"http://localhost:9000", false, "127.0.0.1:9000"},
		{"http://private.loopback", false, "127.9.9.9:80"},
		{"https://mapped.test", false, "127.0.0.2:443"},
		{"http://10.0.0.1:8080", false, ""},
		{"http://8.8.8.8", false, ""},
		{"http://elsewhere.test:8080", false, ""},
		{"http://half.test:8080", false, ""},
		{"http://nowhere.test", false, ""},
		{"ftp://127.0.0.1", false, ""},
		{"http://user@127.0.0.1", false, ""},
		{"http://8.8.8.8", true, "8.8.8.8:80"},
		{"http://elsewhere.test:8080", true, "93.184.216.34:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			got, err := CheckTarget(context.Background(), tt.target, tt.own, res)
			if tt.wantAddr == "" {
				if err == nil {
					t.Fatalf("accepted, pinned to %s", got.Addr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Addr.String() != tt.wantAddr || got.URL.Host != tt.wantAddr {
				t.Errorf("pinned to %s (URL %s), want %s", got.Addr, got.URL, tt.wantAddr)
			}
		})
	}
	_, err := CheckTarget(context.Background(), "http://8.8.8.8", false, res)
	if !errors.Is(err, ErrUnsafeTarget) {
		t.Errorf("8.8.8.8: %v, want ErrUnsafeTarget", err)
	}
	// The runner refuses before sending anything, and refuses a metrics URL
	// elsewhere too.
	s := oneStep("flood", 10, time.Second)
	if _, err := Run(context.Background(), Config{Scenario: s, Models: map[string]sim.Model{"flood": flood{}}, Target: "http://10.0.0.1"}); !errors.Is(err, ErrUnsafeTarget) {
		t.Errorf("Run(10.0.0.1) = %v, want ErrUnsafeTarget", err)
	}
	if _, err := Run(context.Background(), Config{Scenario: s, Models: map[string]sim.Model{"flood": flood{}}, Target: "127.0.0.1:1",
		OriginMetrics: "http://10.0.0.1/metrics"}); !errors.Is(err, ErrUnsafeTarget) {
		t.Errorf("Run(origin metrics 10.0.0.1) = %v, want ErrUnsafeTarget", err)
	}
}

func TestThresholdsAndMaxClients(t *testing.T) {
	srv, _, _ := countingServer(t)
	s := oneStep("flood", 100, time.Second)
	s.Populations = append(s.Populations, scenario.Population{Name: "w", Model: "wait", Role: scenario.RoleViewer})
	s.Phases[0].Arrivals = append(s.Phases[0].Arrivals, scenario.Arrival{Pop: 1, From: 50, To: 50})
	s.MaxClients = 10 // waiters fill it: most floods are skipped
	for _, e := range []string{"p.requests > 0", "p.status_skipped > 0", "p.status_500 <= 0", "w.clients >= 100"} {
		th, err := scenario.ParseThreshold(e)
		if err != nil {
			t.Fatal(err)
		}
		s.Thresholds = append(s.Thresholds, th)
	}
	rep, err := Run(context.Background(), Config{Scenario: s, Models: map[string]sim.Model{"flood": flood{}, "wait": waiter{}}, Target: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	want := []bool{true, true, true, false}
	for i, c := range rep.Checks {
		if c.Pass != want[i] {
			t.Errorf("%s: pass %v (value %v), want %v", c.Expr, c.Pass, c.Value, want[i])
		}
	}
	if rep.Pass {
		t.Error("report passes with a failed threshold")
	}
}
