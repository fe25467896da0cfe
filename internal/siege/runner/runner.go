// Package runner runs a siege scenario against a target: it checks that
// the target is safe to hit, schedules the open-model arrivals of every
// population, runs each client's model in its own goroutine with its own
// source address, records what happens, and turns it into a report.
package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/rempart/rempart/internal/siege/link"
	"github.com/rempart/rempart/internal/siege/report"
	"github.com/rempart/rempart/internal/siege/scenario"
	"github.com/rempart/rempart/internal/siege/sim"
)

// Why a run stopped: the values of report.Report.Stopped.
const (
	StopCompleted   = "completed"
	StopInterrupted = "interrupted"
	StopBudget      = "request_budget"
	StopMaxDuration = "max_duration"
)

var (
	errCompleted   = errors.New(StopCompleted)
	errBudget      = errors.New(StopBudget)
	errMaxDuration = errors.New(StopMaxDuration)
)

// Config is one run.
type Config struct {
	// Scenario is the scenario to run, already scaled and fitted.
	Scenario *scenario.Scenario
	// Models maps model names to models; every population's model must be
	// there.
	Models map[string]sim.Model
	// Target is the base URL of the system under test. It must resolve to
	// loopback addresses only, unless OwnTarget.
	Target string
	// Host, when set, is sent as the Host header; by default the target's
	// host as written.
	Host string
	// OwnTarget (--i-own-this-target) allows a target outside loopback.
	OwnTarget bool
	// MaxDuration, when above 0, replaces the scenario's max_duration. The
	// run always has a cap.
	MaxDuration time.Duration
	// MaxRequests, when above 0, replaces the scenario's max_requests.
	MaxRequests int64
	// ConnectTimeout bounds each TCP connect. Zero means 5s.
	ConnectTimeout time.Duration
	// Drain is how long the clients get to return once the run is over.
	// Zero means 5s.
	Drain time.Duration
	// NoSourceAddrs sends every client from the system's choice of address
	// instead of a distinct 127.x.y.z (for systems without 127/8 on lo).
	NoSourceAddrs bool
	// OriginMetrics is the URL of a Prometheus text endpoint (loopback
	// unless OwnTarget) to read OriginMetric from; empty: not read.
	OriginMetrics string
	// OriginMetric selects the counter(s) counting origin requests, as
	// `name` or `name{label="value"}`. Empty means DefaultOriginMetric.
	OriginMetric string
	// SegmentMetric selects the counter(s) counting origin requests for
	// segments alone. Empty means DefaultSegmentMetric.
	SegmentMetric string
	// LinkMbps (--link-mbps) sets the shared link the viewers download
	// through, in Mbit/s. Above 0 it replaces the scenario's link, as
	// given (Scenario.Scale has already scaled the scenario's, not this);
	// below 0 the run has no link even when the scenario has one. Zero
	// keeps the scenario's link, or none.
	LinkMbps float64
	// Progress receives one call per second of the run; nil: none.
	Progress func(Tick)
	// Resolver resolves the target's host. Nil means net.DefaultResolver.
	Resolver Resolver
	// Logger receives warnings. Nil discards them.
	Logger *slog.Logger
}

// Tick is the progress of a run after one more second.
type Tick struct {
	Elapsed time.Duration
	Phase   string
	Pops    []scenario.Population
	Second  report.Second
	Budget  int64 // requests left
}

// Run runs cfg and returns its report, with thresholds evaluated. It
// returns an error only when the run cannot start (an unsafe target, a
// missing model); a run cut short (ctx cancelled, budget spent, max
// duration reached) still returns its report, with Stopped saying why.
func Run(ctx context.Context, cfg Config) (*report.Report, error) {
	r, err := newRun(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return r.run(ctx), nil
}

// run is the state of one run.
type run struct {
	cfg     Config
	s       *scenario.Scenario
	models  []sim.Model
	env     *sim.Env
	rec     *Recorder
	target  *Target
	origin  *scraper
	link    *link.Link // nil: no link
	meter   linkMeter  // used by the tick goroutine only
	maxDur  time.Duration
	start   time.Time
	alive   atomic.Int64 // clients running now
	nextID  atomic.Int64
	clients sync.WaitGroup // every client goroutine
	log     *slog.Logger
	sources bool // give each client a distinct 127.x.y.z
	panics  atomic.Int64
}

func newRun(ctx context.Context, cfg Config) (*run, error) {
	s := cfg.Scenario
	if s == nil {
		return nil, errors.New("run siege: no scenario")
	}
	r := &run{cfg: cfg, s: s, log: cfg.Logger, maxDur: s.MaxDuration}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxDuration > 0 {
		r.maxDur = min(cfg.MaxDuration, scenario.MaxRunDuration)
	}
	for _, p := range s.Populations {
		m, ok := cfg.Models[p.Model]
		if !ok {
			return nil, fmt.Errorf("run siege: population %s: unknown model %q", p.Name, p.Model)
		}
		r.models = append(r.models, m)
	}
	t, err := CheckTarget(ctx, cfg.Target, cfg.OwnTarget, cfg.Resolver)
	if err != nil {
		return nil, err
	}
	r.target = t
	r.sources = !cfg.NoSourceAddrs && t.Addr.Addr().Is4() && t.Addr.Addr().IsLoopback() && r.canBindSources()
	if cfg.OriginMetrics != "" {
		if r.origin, err = newScraper(ctx, cfg.OriginMetrics, cfg.OriginMetric, cfg.SegmentMetric, cfg.OwnTarget, cfg.Resolver, r.log); err != nil {
			return nil, err
		}
	}
	if r.link, err = newLink(s, cfg.LinkMbps); err != nil {
		return nil, fmt.Errorf("run siege: %w", err)
	}
	r.rec = NewRecorder(len(s.Populations))
	r.env = r.newEnv()
	return r, nil
}

// canBindSources checks that this system sends from any 127/8 address
// (Linux does; macOS only has 127.0.0.1 unless aliases are added).
func (r *run) canBindSources() bool {
	ln, err := net.Listen("tcp", netip.AddrPortFrom(SourceAddr(0), 0).String())
	if err != nil {
		r.log.Warn("siege: cannot send from distinct 127.x.y.z addresses here; every client uses the system's address", "err", err)
		return false
	}
	ln.Close()
	return true
}

func (r *run) newEnv() *sim.Env {
	budget := r.s.MaxRequests
	if r.cfg.MaxRequests > 0 {
		budget = r.cfg.MaxRequests
	}
	host := r.target.Host
	if r.cfg.Host != "" {
		host = r.cfg.Host
	}
	params := make([]sim.Params, len(r.s.Populations))
	for i, p := range r.s.Populations {
		params[i] = p.Params
	}
	return &sim.Env{
		Target: r.target.URL,
		Host:   host,
		Params: params,
		Now:    time.Now,
		Dial:   dialer(r.target.Addr, cmpOr(r.cfg.ConnectTimeout, 5*time.Second)),
		Budget: sim.NewBudget(budget),
		Rec:    r.rec,
		Link:   r.link,
	}
}

// dialer returns the Env.Dial of a run: every connection goes to the pinned
// target address, from src when it is valid.
func dialer(target netip.AddrPort, timeout time.Duration) func(context.Context, netip.Addr) (net.Conn, error) {
	addr := target.String()
	return func(ctx context.Context, src netip.Addr) (net.Conn, error) {
		d := net.Dialer{Timeout: timeout}
		if src.IsValid() {
			d.LocalAddr = &net.TCPAddr{IP: src.AsSlice()}
		}
		return d.DialContext(ctx, "tcp", addr)
	}
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func (r *run) run(parent context.Context) *report.Report {
	r.start = time.Now()
	r.meter = linkMeter{l: r.link, at: r.start}
	ctx, cancel := context.WithCancelCause(parent)
	ctx, stopTimer := context.WithTimeoutCause(ctx, r.maxDur, errMaxDuration)
	defer stopTimer()
	r.origin.begin(ctx)

	var g errgroup.Group
	series := make(chan []report.Second, 1)
	tickDone := make(chan struct{})
	g.Go(func() error { series <- r.tick(ctx, tickDone); return nil })
	r.schedule(ctx, cancel)
	cancel(errCompleted) // no-op when already cancelled
	r.drain()
	close(tickDone)
	_ = g.Wait()
	return r.report(parent, ctx, <-series)
}

// drain waits for the clients, at most cfg.Drain: a model that ignores ctx
// must not keep the report from being written.
func (r *run) drain() {
	done := make(chan struct{})
	go func() { r.clients.Wait(); close(done) }()
	t := time.NewTimer(cmpOr(r.cfg.Drain, 5*time.Second))
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		r.log.Warn("siege: clients still running after the run ended; reporting without them", "clients", r.alive.Load())
	}
}

// stopCause says why the run stopped.
func stopCause(parent, ctx context.Context) string {
	if parent.Err() != nil {
		return StopInterrupted
	}
	switch context.Cause(ctx) {
	case errBudget:
		return StopBudget
	case errMaxDuration:
		return StopMaxDuration
	}
	return StopCompleted
}

func (r *run) report(parent, ctx context.Context, series []report.Second) *report.Report {
	elapsed := time.Since(r.start)
	rep := &report.Report{
		Schema:   report.Schema,
		Scenario: r.s.Name,
		Target:   r.target.URL.String(),
		Started:  r.start,
		Seconds:  elapsed.Seconds(),
		Stopped:  stopCause(parent, ctx),
		Machine:  report.Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH},
		Series:   series,
		Pops:     r.rec.Pops(r.s),
	}
	var off time.Duration
	for _, p := range r.s.Phases {
		if off >= elapsed {
			break
		}
		end := min(off+p.Duration, elapsed)
		rep.Phases = append(rep.Phases, report.Phase{Name: p.Name, Start: off.Seconds(), End: end.Seconds()})
		off += p.Duration
	}
	rep.Origin = r.origin.account(r.rec)
	rep.Link = linkAccount(r.link, rep.Seconds, rep.Series)
	rep.Admission = r.rec.Admission(r.start, rep.Series)
	scenario.Evaluate(r.s.Thresholds, rep)
	return rep
}

// phaseAt names the phase running at offset t.
func (r *run) phaseAt(t time.Duration) string {
	var off time.Duration
	for _, p := range r.s.Phases {
		off += p.Duration
		if t < off {
			return p.Name
		}
	}
	return "end"
}
