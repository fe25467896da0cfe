package detect

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/mitigation"
	"github.com/rempart/rempart/internal/telemetry"
)

// Defaults for the zero values of config.Detect (the config package fills
// the same; these keep a zero config usable in tests and tools).
const (
	defaultInterval = time.Second
	defaultBaseline = 10 * time.Minute
	defaultTTL      = 2 * time.Minute
	defaultBudget   = 0.01
	confirmSeconds  = 2                 // an anomaly must last this many ticks
	recentHalf      = 150 * time.Second // new sources: unseen for 2.5 to 5 minutes
	// watchedBits sizes the memory of the sources that played a segment
	// lately (two generations, 1 MiB in all): at a million such sources
	// one poller in eight passes for one of them, which spares pollers,
	// never viewers.
	watchedBits = 1 << 22
)

var _ telemetry.Consumer = (*Detector)(nil)

// Detector judges the traffic every Interval and mitigates attacks through
// its Actuator. Observe is safe for concurrent use; Tick and Run are owned
// by one goroutine (Tick serialises itself all the same).
type Detector struct {
	cfg    config.Detect
	act    mitigation.Actuator
	log    *slog.Logger
	now    func() time.Time
	recent *recent
	// watched remembers the sources that asked a segment at a player's
	// pace in the last few minutes: players whose stream stalled poll
	// their playlist without segments, and are no pollers.
	watched *recent
	shards  [numShards]shard
	stats   Stats

	tickMu  sync.Mutex // serialises Tick; guards the fields below
	spare   [numShards]*window
	sec     *second
	feat    features
	base    *baseline
	streak  map[AttackClass]int
	active  map[string]*active
	quiet   map[string]time.Time // log lines said recently, by key
	verdict Verdict
	since   time.Time
	rotated time.Time
	// learnedN is base.n when SaveBaseline last looked, learnedAt when
	// that was (or the snapshot's time): what a save stamps the file with.
	learnedN  int
	learnedAt time.Time

	saveMu sync.Mutex // serialises SaveBaseline's writes

	mu     sync.Mutex // protects status
	status Status
}

// shard is one lock's worth of the current second. Sources hash to a shard
// by their prefix, so a prefix and its sources are counted in one place.
type shard struct {
	mu  sync.Mutex // protects cur
	cur *window
	_   [48]byte // keep neighbouring locks off one cache line
}

// active is a mitigation the detector applied and still holds.
type active struct {
	m         mitigation.Mitigation
	lastMatch time.Time
}

// New returns a detector acting through act. A zero field of cfg takes its
// documented default; a nil logger discards, a nil now is time.Now.
// With cfg.BaselineFile set it starts with the baseline saved there, unless
// that snapshot is missing, stale, future-dated, damaged or of another
// version (it logs which and starts cold).
func New(cfg config.Detect, act mitigation.Actuator, logger *slog.Logger, now func() time.Time) *Detector {
	cfg = withDefaults(cfg)
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	d := &Detector{cfg: cfg, act: act, log: logger, now: now, recent: newRecent(recentBits), watched: newRecent(watchedBits),
		sec: newSecond(), base: newBaseline(cfg.Baseline.Seconds()),
		streak: map[AttackClass]int{}, active: map[string]*active{}, quiet: map[string]time.Time{},
		verdict: Normal}
	for i := range d.shards {
		d.shards[i].cur = newWindow()
		d.spare[i] = newWindow()
	}
	d.status.Verdict = Normal
	if cfg.BaselineFile != "" {
		d.restoreBaseline()
	}
	return d
}

func withDefaults(cfg config.Detect) config.Detect {
	if cfg.Interval <= 0 {
		cfg.Interval = defaultInterval
	}
	if cfg.Baseline <= 0 {
		cfg.Baseline = defaultBaseline
	}
	if cfg.MitigationTTL <= 0 {
		cfg.MitigationTTL = defaultTTL
	}
	if cfg.FalsePositiveBudget <= 0 {
		cfg.FalsePositiveBudget = defaultBudget
	}
	if cfg.BaselineEvery <= 0 {
		cfg.BaselineEvery = defaultBaselineEvery
	}
	if cfg.BaselineMaxAge <= 0 {
		cfg.BaselineMaxAge = defaultBaselineMaxAge
	}
	return cfg
}

// Observe counts one finished request (telemetry.Consumer). It takes one
// shard lock for a few hundred nanoseconds and allocates nothing.
func (d *Detector) Observe(rec *telemetry.Record, r *http.Request, now time.Time) {
	var s sample
	s.fill(rec, r, now)
	if s.src.IsValid() {
		s.newSrc = !d.recent.seen(s.srcH)
		if s.player && s.class == telemetry.ClassSegment {
			d.watched.add(s.srcH)
		}
	}
	sh := &d.shards[s.pfxH&(numShards-1)]
	sh.mu.Lock()
	sh.cur.add(&s)
	sh.mu.Unlock()
}

// Run ticks every Interval until ctx is done, then returns nil. The
// mitigations it applied stay until their TTL: a stopped detector leaves
// the edge with its last known state. With a baseline file it also saves
// the baseline every BaselineEvery and once more as it stops, and returns
// after that last save.
func (d *Detector) Run(ctx context.Context) error {
	ticked := make(chan struct{}) // closed after the last tick
	var saver sync.WaitGroup
	if d.cfg.BaselineFile != "" {
		saver.Go(func() { d.keepBaseline(ctx, ticked) })
	}
	d.tickUntil(ctx)
	close(ticked)
	saver.Wait()
	return nil
}

func (d *Detector) tickUntil(ctx context.Context) {
	t := time.NewTicker(d.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			d.Tick(d.now())
		}
	}
}

// Stats returns the detector's counters.
func (d *Detector) Stats() *Stats { return &d.stats }

// closeSecond swaps every shard's window for a clean one and merges the
// closed ones into d.sec.
func (d *Detector) closeSecond() *second {
	d.sec.reset(d.cfg.Interval.Seconds())
	for i := range d.shards {
		sh := &d.shards[i]
		sh.mu.Lock()
		w := sh.cur
		sh.cur = d.spare[i]
		sh.mu.Unlock()
		d.sec.merge(w)
		w.reset()
		d.spare[i] = w
	}
	d.sec.finish()
	return d.sec
}
