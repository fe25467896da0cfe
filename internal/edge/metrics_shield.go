package edge

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rempart/rempart/internal/detect"
	"github.com/rempart/rempart/internal/filter"
)

var (
	descShieldAllowed = prometheus.NewDesc("rempart_shield_allowed_total",
		"Requests the filter let through (allowlisted ones included).", nil, nil)
	descShieldRefused = prometheus.NewDesc("rempart_shield_refused_total",
		"Requests the filter refused, by reason (blocked, throttled, shed, rate_limited, busy: over its fair share "+
			"while the CPU is saturated).", []string{"reason"}, nil)
	descShieldShadowed = prometheus.NewDesc("rempart_shield_shadowed_total",
		"In shadow mode, requests that would have been refused, by reason (they passed).", []string{"reason"}, nil)
	descConns = prometheus.NewDesc("rempart_connections_total",
		"Connections on the public listener: accepted, refused by the per-address or total cap, "+
			"refused for a bad PROXY header, cut for reading slower than the minimum rate, cut for opening "+
			"requests or HTTP/2 streams faster than any player (stream floods), cut for cancelling more HTTP/2 "+
			"streams than any player (rapid reset), refused for a request with both Content-Length and "+
			"Transfer-Encoding.", []string{"event"}, nil)
	descH2Resets = prometheus.NewDesc("rempart_http2_streams_reset_total",
		"HTTP/2 streams clients cancelled (RST_STREAM frames read off their connections).", nil, nil)
	descH2Errors = prometheus.NewDesc("rempart_http2_errors_total",
		"HTTP/2 protocol errors Go's server detected, by type (e.g. conn_ENHANCE_YOUR_CALM_too_many_early_resets, "+
			"conn_PROTOCOL_ERROR_...): its own rapid-reset and CONTINUATION defences.", []string{"type"}, nil)
	descConnsOpen   = prometheus.NewDesc("rempart_connections_open", "Connections open on the public listener.", nil, nil)
	descMitigations = prometheus.NewDesc("rempart_mitigations_active",
		"Mitigations in force, by kind (block_prefix, throttle_fingerprint, strip_params, shed_route, attack_mode, challenge_prefix).", []string{"kind"}, nil)
	descChallenge = prometheus.NewDesc("rempart_challenge_total",
		"Proof-of-work challenge events: issued, solved, failed, replayed, refused (403 to non-documents), "+
			"passed_clearance, passed_token, passed_listed (a listed object at a player's pace, or a viewer).", []string{"event"}, nil)
	descChallengeDifficulty = prometheus.NewDesc("rempart_challenge_difficulty_bits", "Difficulty asked of new challenges now.", nil, nil)
	descVerdict             = prometheus.NewDesc("rempart_detect_verdict",
		"1 for the detector's current verdict (normal, flash_crowd, attack, origin_failure, saturation).", []string{"verdict"}, nil)
	descDetect = prometheus.NewDesc("rempart_detect_mitigations_total",
		"Detector decisions: applied, renewed, lifted, vetoed (false-positive budget, per second), failed, "+
			"cold_start (not taken for want of a baseline: only exact mitigations are, per second).", []string{"decision"}, nil)
	descCPUSaturated = prometheus.NewDesc("rempart_cpu_saturated",
		"1 while the edge's CPU is saturated: the p99 of how long runnable goroutines wait for a CPU is over "+
			"shield.pressure.sched_latency.", nil, nil)
	descSchedP99 = prometheus.NewDesc("rempart_sched_latency_p99_seconds",
		"99th percentile of how long runnable goroutines waited for a CPU over the last second (0: too few to say).", nil, nil)
	descFairShare = prometheus.NewDesc("rempart_fair_share_rate",
		"Requests a second each source may take while the CPU is saturated (shield.pressure); 0 when no share is in force.", nil, nil)
	descEvidence = prometheus.NewDesc("rempart_evidence_total",
		"Evidence log: sampled, dropped_cap, dropped_full, written, lost, write_errors, pruned.", []string{"event"}, nil)
)

var verdicts = []detect.Verdict{detect.Normal, detect.FlashCrowd, detect.UnderAttack, detect.OriginFailure, detect.Saturation}

func describeShield(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descShieldAllowed, descShieldRefused, descShieldShadowed, descConns, descH2Resets, descH2Errors,
		descConnsOpen, descMitigations, descChallenge, descChallengeDifficulty, descVerdict, descDetect, descEvidence,
		descCPUSaturated, descSchedP99, descFairShare} {
		ch <- d
	}
}

func collectShield(ch chan<- prometheus.Metric, e *Edge) {
	d := e.def
	fs := d.shield.Stats()
	ch <- counter(descShieldAllowed, float64(fs.Allowed.Load()))
	for r := filter.ReasonNone + 1; r < filter.NumReasons; r++ {
		ch <- counter(descShieldRefused, float64(fs.Refused[r].Load()), r.String())
		ch <- counter(descShieldShadowed, float64(fs.Shadowed[r].Load()), r.String())
	}
	cs := &d.conns
	for ev, v := range map[string]int64{"accepted": cs.Accepted.Load(), "refused_per_ip": cs.RefusedPerIP.Load(),
		"refused_total": cs.RefusedTotal.Load(), "refused_proxy_header": cs.ProxyRefused.Load(), "cut_slow_read": cs.SlowReadCut.Load(),
		"cut_request_flood": cs.StreamFloodCut.Load(), "cut_reset_flood": cs.ResetFloodCut.Load(),
		"refused_ambiguous_framing": cs.AmbiguousFraming.Load()} {
		ch <- counter(descConns, float64(v), ev)
	}
	ch <- gauge(descConnsOpen, float64(cs.Open.Load()))
	ch <- gauge(descCPUSaturated, boolFloat(d.cpu.gauge.Saturated()))
	ch <- gauge(descSchedP99, d.cpu.gauge.P99().Seconds())
	ch <- gauge(descFairShare, d.shield.FairShare())
	ch <- counter(descH2Resets, float64(cs.StreamsReset.Load()))
	for typ, n := range cs.H2.Snapshot() {
		ch <- counter(descH2Errors, float64(n), typ)
	}
	kinds := map[string]int{}
	for _, m := range d.shield.Active(e.now()) {
		kinds[string(m.Kind)]++
	}
	for k, n := range kinds {
		ch <- gauge(descMitigations, float64(n), k)
	}
	collectChallenge(ch, d)
	collectDetect(ch, d)
}

func collectChallenge(ch chan<- prometheus.Metric, d *defences) {
	s := d.challenger.Stats()
	for ev, v := range map[string]uint64{"issued": s.Issued.Load(), "solved": s.Solved.Load(), "failed": s.Failed.Load(),
		"replayed": s.Replayed.Load(), "refused": s.Refused.Load(), "passed_clearance": s.PassedClearance.Load(), "passed_listed": s.PassedListed.Load(),
		"passed_token": s.PassedToken.Load()} {
		ch <- counter(descChallenge, float64(v), ev)
	}
	ch <- gauge(descChallengeDifficulty, float64(s.Difficulty.Load()))
}

func collectDetect(ch chan<- prometheus.Metric, d *defences) {
	if d.evidence != nil {
		s := d.evidence.Stats()
		for ev, v := range map[string]uint64{"sampled": s.Sampled, "dropped_cap": s.DroppedCap, "dropped_full": s.DroppedFull,
			"written": s.Written, "lost": s.Lost, "write_errors": s.WriteErrors, "pruned": s.Pruned} {
			ch <- counter(descEvidence, float64(v), ev)
		}
	}
	if d.detector == nil {
		return
	}
	cur := d.detector.Status().Verdict
	for _, v := range verdicts {
		ch <- gauge(descVerdict, boolFloat(v == cur), string(v))
	}
	s := d.detector.Stats()
	for dec, v := range map[string]uint64{"applied": s.Applied.Load(), "renewed": s.Renewed.Load(), "lifted": s.Lifted.Load(),
		"vetoed": s.Vetoed.Load(), "failed": s.Failed.Load(), "cold_start": s.ColdStart.Load()} {
		ch <- counter(descDetect, float64(v), dec)
	}
}
