package detect

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/rempart/rempart/internal/mitigation"
)

// Status is the detector's account of the last second, for the admin
// endpoint and the status page.
type Status struct {
	At       time.Time     `json:"at"`
	Verdict  Verdict       `json:"verdict"`
	Since    time.Time     `json:"since"`            // when the verdict began
	Reason   string        `json:"reason,omitempty"` // why, for calm verdicts
	Attacks  []Attack      `json:"attacks,omitempty"`
	Pending  []AttackClass `json:"pending,omitempty"` // signals seen once, not yet confirmed
	Evidence Evidence      `json:"evidence"`
	// Decisions are this second's mitigation decisions, vetoed ones too.
	Decisions []Decision `json:"decisions,omitempty"`
	// Active are the mitigations the detector holds.
	Active []mitigation.Mitigation `json:"active,omitempty"`
}

// Attack is one confirmed attack of the second.
type Attack struct {
	Class     AttackClass `json:"class"`
	Rate      float64     `json:"rate"` // requests per second attributed to it
	Reasons   []string    `json:"reasons"`
	Signature Signature   `json:"signature"`
}

// Signature names what the attack comes from and aims at, heaviest first
// (at most sigMax of each).
type Signature struct {
	Sources      []string `json:"sources,omitempty"`
	Prefixes     []string `json:"prefixes,omitempty"`
	Fingerprints []string `json:"fingerprints,omitempty"`
	Paths        []string `json:"paths,omitempty"`
}

const sigMax = 5

// Evidence are the second's features and their baselines.
type Evidence struct {
	Rate                float64 `json:"rate"`
	BaselineRate        float64 `json:"baseline_rate"`
	Sources             float64 `json:"sources"`
	NewSources          float64 `json:"new_sources"` // per second, unseen for minutes
	NewSourceRatio      float64 `json:"new_source_ratio"`
	PlayerShare         float64 `json:"player_share"` // media playlists and segments
	BaselinePlayerShare float64 `json:"baseline_player_share"`
	MissRatio           float64 `json:"miss_ratio"`
	ErrorRatio          float64 `json:"error_ratio"` // error and stale outcomes
	BaselineErrorRatio  float64 `json:"baseline_error_ratio"`
	GuardRefused        float64 `json:"guard_refused"` // per second
	// UnlistedRefused are the unlisted segments the edge refused this
	// second (not counted in Rate).
	UnlistedRefused float64 `json:"unlisted_refused"`
	HeavyRate       float64 `json:"heavy_rate"` // from heavy non-player sources
	HitLatencyMs    float64 `json:"hit_latency_ms"`
	MissLatencyMs   float64 `json:"miss_latency_ms"`
	Learned         int     `json:"learned_seconds"`
}

// Decision is what became of one proposed mitigation.
type Decision struct {
	Mitigation mitigation.Mitigation `json:"mitigation"`
	Action     string                `json:"action"`      // applied, renewed, vetoed, failed, capped
	LegitShare float64               `json:"legit_share"` // estimated share of legitimate traffic hit
	Attack     AttackClass           `json:"attack"`
}

// Stats are the detector's counters.
type Stats struct {
	Ticks    atomic.Uint64 // seconds judged
	Requests atomic.Uint64 // requests observed, counted at each tick
	Applied  atomic.Uint64 // mitigations applied for the first time
	Renewed  atomic.Uint64 // renewals of active mitigations
	Lifted   atomic.Uint64 // mitigations lifted after their traffic stopped
	Vetoed   atomic.Uint64 // proposals refused by the false-positive budget (per second)
	// ColdStart counts proposals not taken for want of a baseline
	// (per second): only exact mitigations are taken then.
	ColdStart atomic.Uint64
	Failed    atomic.Uint64 // Apply errors
	verdicts  [len(verdicts)]atomic.Uint64
}

// Verdicts returns how many seconds were judged v.
func (s *Stats) Verdicts(v Verdict) uint64 {
	for i, w := range verdicts {
		if w == v {
			return s.verdicts[i].Load()
		}
	}
	return 0
}

func (s *Stats) countVerdict(v Verdict) {
	for i, w := range verdicts {
		if w == v {
			s.verdicts[i].Add(1)
		}
	}
}

// Status returns a copy of the last second's account.
func (d *Detector) Status() Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.status
}

func evidenceOf(f *features, b *baseline) Evidence {
	return Evidence{Rate: f.rate, BaselineRate: b.rate, Sources: f.sources, NewSources: f.newSources,
		NewSourceRatio: f.newRatio, PlayerShare: f.playerShare, BaselinePlayerShare: b.player,
		MissRatio: f.missRatio, ErrorRatio: f.errRatio, BaselineErrorRatio: b.errRatio,
		GuardRefused: f.guard, UnlistedRefused: f.unlisted, HeavyRate: f.heavy, HitLatencyMs: 1e3 * f.hitLat,
		MissLatencyMs: 1e3 * f.missLat, Learned: b.n}
}

// attacksOf groups the confirmed findings by class, with their signature.
func attacksOf(s *second, f *features, confirmed []finding) []Attack {
	var out []Attack
	byClass := map[AttackClass]int{}
	for i := range confirmed {
		fd := &confirmed[i]
		j, ok := byClass[fd.class]
		if !ok {
			j = len(out)
			byClass[fd.class] = j
			out = append(out, Attack{Class: fd.class, Signature: signature(s, f, fd.class)})
		}
		a := &out[j]
		a.Rate += fd.rate
		a.Reasons = append(a.Reasons, fd.reason)
		if fd.path != nil && len(a.Signature.Paths) < sigMax {
			a.Signature.Paths = append(a.Signature.Paths, fd.path.path)
		}
		if fd.fp != nil && len(a.Signature.Fingerprints) < sigMax {
			a.Signature.Fingerprints = append(a.Signature.Fingerprints, fmt.Sprintf("%016x %q", fd.fp.key, fd.fp.ua))
		}
	}
	return out
}

// signature lists the heavy abusive sources and their prefixes for the
// classes they drive.
func signature(s *second, f *features, c AttackClass) Signature {
	var sig Signature
	if c == Botnet || c == Unknown {
		for _, pe := range s.pfxs[:min(sigMax, len(s.pfxs))] {
			sig.Prefixes = append(sig.Prefixes, fmt.Sprintf("%s %.0f/s", pe.pfx, s.rate(uint64(pe.n))))
		}
		return sig
	}
	seen := map[string]bool{}
	for _, e := range f.abusive {
		if len(sig.Sources) < sigMax {
			sig.Sources = append(sig.Sources, fmt.Sprintf("%s %.0f/s", e.addr, s.rate(uint64(e.n))))
		}
		if p := e.pfx.String(); !seen[p] && len(sig.Prefixes) < sigMax {
			seen[p] = true
			sig.Prefixes = append(sig.Prefixes, p)
		}
	}
	return sig
}
