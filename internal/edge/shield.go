package edge

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/rempart/rempart/internal/admission"
	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/detect"
	"github.com/rempart/rempart/internal/evidence"
	"github.com/rempart/rempart/internal/filter"
	"github.com/rempart/rempart/internal/filter/challenge"
	"github.com/rempart/rempart/internal/guard"
	"github.com/rempart/rempart/internal/telemetry"
)

// defences is the shield's long-lived state. Unlike a pipeline it survives
// reloads: blocks, limiter buckets, mitigations, clearance keys and the
// evidence chain must not vanish on SIGHUP.
type defences struct {
	logger     *slog.Logger
	now        func() time.Time
	shield     *filter.Shield
	challenger *challenge.Challenger
	detector   *detect.Detector // nil when the detector is off
	evidence   *evidence.Log    // nil without shield.evidence.dir
	conns      guard.ConnStats
	rooms      *admission.Rooms // the sites' admission rooms
	streams    *streams         // the sites' live streams, and their viewers
	consumers  []telemetry.Consumer
	// watching reports whether a client was already watching: attack mode
	// does not challenge it (until admission gives viewers real sessions,
	// the edge's viewer table is what it knows of them).
	watching func(client netip.Addr, now time.Time) bool
	gauge    pressureGauge // the challenge's difficulty; the tick's alone
	cpu      *cpuShare     // the CPU the edge gets, and the fair share
}

func newDefences(cfg *config.Config, logger *slog.Logger, now func() time.Time) (*defences, error) {
	s := &cfg.Shield
	d := &defences{logger: logger, now: now, cpu: newCPUShare(s.Pressure)}
	d.rooms = admission.NewRooms(logger, now)
	d.streams = newStreams(now)
	d.consumers = append(d.consumers, d.streams.viewers)
	var err error
	if d.shield, err = filter.New(*s, logger.With("stage", "filter"), now); err != nil {
		return nil, fmt.Errorf("build shield: %w", err)
	}
	if d.challenger, err = challenge.New(s.Challenge, logger.With("stage", "challenge"), now); err != nil {
		return nil, fmt.Errorf("build challenge: %w", err)
	}
	if s.Mode != "off" && (s.Detect.Enabled == nil || *s.Detect.Enabled) {
		d.detector = detect.New(s.Detect, d.shield, logger.With("component", "detect"), now)
		d.consumers = append(d.consumers, d.detector)
	}
	if s.Evidence.Dir != "" {
		if d.evidence, err = evidence.Open(s.Evidence, logger.With("component", "evidence"), now); err != nil {
			return nil, fmt.Errorf("open evidence log: %w", err)
		}
		d.consumers = append(d.consumers, d.evidence)
	}
	return d, nil
}

// siteStages puts the shield in front of a site's cache stage: filter
// (allow, block, mitigations, rate limits), then the challenge of attack
// mode. With shield.mode off the site goes straight to its cache.
func (d *defences) siteStages(mode string, next http.Handler) http.Handler {
	if mode == "off" {
		return next
	}
	ch := &challenge.Stage{C: d.challenger, Active: d.shield.AttackMode, Scoped: d.shield.PrefixChallenged, Next: next,
		Exempt: func(client netip.Addr, _ *http.Request) bool { return d.watching(client, d.now()) }}
	return &filter.Stage{Shield: d.shield, Next: ch}
}

// observe hands a finished request to the detector and the evidence log.
func (d *defences) observe(rec *telemetry.Record, r *http.Request, now time.Time) {
	for _, c := range d.consumers {
		c.Observe(rec, r, now)
	}
}

// run starts the shield's side loops in g: the detector, the evidence
// writer, and a once-a-second housekeeping tick. All stop with ctx.
func (d *defences) run(ctx context.Context, start func(func() error)) {
	if d.detector != nil {
		start(func() error { return d.detector.Run(ctx) })
	}
	if d.evidence != nil {
		start(func() error { return d.evidence.Run(ctx) })
	}
	start(func() error { d.tick(ctx); return nil })
	start(func() error { d.streams.prefetch.Run(ctx); return nil })
	start(func() error { return d.rooms.Run(ctx) })
}

// tick sweeps expired blocks, shares the edge fairly while its CPU is
// saturated (cpu.go), and passes the detector's verdict on: to the
// evidence log (stamped on records) and, with the solve rate, to the
// challenge (difficulty, see pressure.go).
func (d *defences) tick(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		d.shield.Sweep(d.now())
		if d.detector == nil {
			d.cpu.update(d.shield, d.cpu.gauge.Update(), nil)
			continue
		}
		st := d.detector.Status()
		d.cpu.update(d.shield, d.cpu.gauge.Update(), &st)
		if d.evidence != nil {
			d.evidence.SetVerdict(string(st.Verdict))
		}
		d.challenger.SetPressure(d.gauge.update(st, d.challenger.Stats().Solved.Load()))
	}
}

// reload applies a new shield configuration; on error the running one stays.
func (d *defences) reload(cfg *config.Config) error {
	if err := d.shield.Reload(cfg.Shield); err != nil {
		return fmt.Errorf("reload shield: %w", err)
	}
	if err := d.challenger.Reload(); err != nil {
		return fmt.Errorf("reload challenge keys: %w", err)
	}
	d.cpu.reload(cfg.Shield.Pressure)
	return nil
}

// trustedProxies parses shield.trusted_proxies (validated by config).
func trustedProxies(cfg *config.Config) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(cfg.Shield.TrustedProxies))
	for _, s := range cfg.Shield.TrustedProxies {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}
