package detect

import (
	"fmt"

	"github.com/rempart/rempart/internal/telemetry"
)

// Verdict is what the detector judges a second of traffic to be.
type Verdict string

// The verdicts.
const (
	Normal        Verdict = "normal"
	FlashCrowd    Verdict = "flash_crowd"    // rate up, player-like, no abusive source: do nothing
	UnderAttack   Verdict = "attack"         // see Status.Attacks
	OriginFailure Verdict = "origin_failure" // errors or origin latency up, no attack
	Saturation    Verdict = "saturation"     // everything slow, no anomalous source
)

var verdicts = [...]Verdict{Normal, FlashCrowd, UnderAttack, OriginFailure, Saturation}

// AttackClass is the kind of an attack.
type AttackClass string

// The attack classes.
const (
	GetFlood   AttackClass = "get_flood"   // heavy sources repeating non-media URLs
	CacheBust  AttackClass = "cache_bust"  // many distinct query strings on one path
	LoginFlood AttackClass = "login_flood" // an expensive endpoint far above its baseline
	Botnet     AttackClass = "botnet"      // many light sources sharing a fingerprint, not player-like
	Connection AttackClass = "connection"  // the connection guard refusing far above its baseline
	Unknown    AttackClass = "unknown"     // rate up, not player-like, no specific signal
	// UnlistedObjects: segments no playlist lists, asked far more than
	// players ever do; the stream stage already refuses each for nothing,
	// so it is told and needs no mitigation.
	UnlistedObjects AttackClass = "unlisted_objects"
)

// The rules' thresholds. Rates are requests per second.
const (
	minAttackRate     = 50  // below this nothing is an attack
	heavySourceRate   = 10  // a source above this is heavy (a player asks ~1/s)
	playerLikeShare   = 0.5 // a key is player-like when this share of its requests is media
	maxPlayerRepeats  = 3   // a player asks one URL on its connection at most this often a second
	offbeatShare      = 0.2 // a source repeating URLs faster in this share of its requests is no player
	botnetMinSources  = 50  // a botnet fingerprint comes from at least this many sources
	botnetPlayerShare = 0.3 // and at most this share of its requests is media
	failingShare      = 0.5 // traffic failing this much is players retrying, not an attack's shape
	bustQueryRatio    = 0.5 // distinct query strings per request on a busted path
	bustPerSource     = 4   // distinct query strings per source (a token is one per viewer)
	bustMissShare     = 0.3 // and the queries must miss the cache: busting that the cache
	//                          already absorbs (keys without those parameters) needs no defence
	expensiveFactor   = 5    // an expensive path this many times its baseline
	floodFactor       = 3    // heavy, fingerprint and unknown traffic this many times baseline
	flashFactor       = 2    // a crowd: rate this many times baseline
	flashMinRate      = 20   // and at least this much above it
	originErrRatio    = 0.1  // errors and stale answers over this share
	originLatFactor   = 3    // or miss latency this many times baseline
	originMinLat      = 0.5  // and at least this long (seconds)
	saturationFactor  = 4    // hits this many times slower than baseline
	saturationMinLat  = 0.05 // and at least this slow (seconds)
	minJudgedRequests = 20   // ratios of fewer requests are noise
	// cheapShare: a botnet whose requests are this much costless (listed
	// objects at a player's pace: cache hits) is told, not mitigated;
	// serving it costs less than any mitigation would risk.
	cheapShare = 0.8
)

// pollingRate: a source asking media playlists without their segments
// this fast, on all its connections together, is polling, not playing
// (a player asks its playlist once per target duration, twice while
// the stream stalls). A flood of what players fetch, starved of CPU
// on a saturated edge or spread thin on purpose, stays under
// heavySourceRate; its sources still ask nothing but the playlist.
const pollingRate = 3

// features are the numbers of one second the rules read.
type features struct {
	rate, sources, newSources, newRatio float64
	playerShare, missRatio, errRatio    float64
	failRatio                           float64 // errors alone: the edge gave no answer
	guard, heavy                        float64
	unlisted                            float64 // unlisted segments refused per second
	hitLat, missLat                     float64
	hitN, missN                         uint64
	abusive                             []srcEntry // heavy and not player-like, or polling; heaviest first
}

// measure reads the features of s; watched reports whether a source asked
// a segment at a player's pace in the last few minutes.
func measure(s *second, f *features, watched func(uint64) bool) {
	abusive := f.abusive[:0]
	*f = features{rate: s.rate(s.n), sources: hllCount(s.sources[:]), newSources: s.rate(s.newSrc),
		guard: s.rate(s.guard), unlisted: s.rate(s.unlisted)}
	if f.sources > 0 {
		f.newRatio = min(1, float64(s.newSrc)/f.sources)
	}
	if s.n > 0 {
		n := float64(s.n)
		f.playerShare = float64(s.legitN) / n
		f.missRatio = float64(s.outcome(telemetry.OutcomeMiss)+s.outcome(telemetry.OutcomePass)) / n
		f.errRatio = float64(s.outcome(telemetry.OutcomeError)+s.outcome(telemetry.OutcomeStale)) / n
		f.failRatio = float64(s.outcome(telemetry.OutcomeError)) / n
	}
	f.hitLat, f.missLat, f.hitN, f.missN = s.latencies()
	for _, e := range s.srcs {
		r := s.rate(uint64(e.n))
		if r < pollingRate {
			break // sorted, heaviest first
		}
		if (r >= heavySourceRate && !e.playerLike()) || (e.polling(s) && !watched(e.key)) {
			abusive = append(abusive, e)
			f.heavy += s.rate(uint64(e.n - e.guard))
		}
	}
	f.abusive = abusive
}

// playerLike: most of the source's requests are media at a player's pace,
// and few repeat a URL faster (a NAT'd household's players each keep their
// own connection and pace; a flood of one playlist does not).
func (e *srcEntry) playerLike() bool {
	return e.n > 0 && float64(e.player) >= playerLikeShare*float64(e.n) && !e.repeating()
}

// polling: the source asks media playlists at pollingRate or more, they
// are most of what it asks, and it asks fewer than a quarter as many
// segments, all its connections counted together. Each player behind a
// NAT asks the segments of the playlist it loads, so a household stays
// a crowd however many share the address.
func (e *srcEntry) polling(s *second) bool {
	return s.rate(uint64(e.lists)) >= pollingRate && 2*e.lists >= e.n && 4*e.segs < e.lists
}

// repeating: the source asks URLs again past a player's pace in a good
// share of its requests.
func (e *srcEntry) repeating() bool {
	return float64(e.offbeat) >= offbeatShare*float64(e.n)
}

// finding is one attack signal of one second, with what a mitigation
// would target.
type finding struct {
	class  AttackClass
	rate   float64
	reason string
	fp     *fpEntry   // botnet
	path   *pathEntry // cache_bust, login_flood
	// told: an attack that costs the edge nothing worth a mitigation
	// (unlisted objects refused already, a botnet of cache hits).
	told bool
}

// judge finds the attack signals of s; the verdict follows from them and
// from the baseline once the streaks are counted.
func judge(s *second, b *baseline, f *features) []finding {
	var out []finding
	explained := 0.0
	if u := s.rate(s.unlisted); u >= minAttackRate {
		out = append(out, finding{class: UnlistedObjects, rate: u, told: true, reason: fmt.Sprintf(
			"%.0f req/s for segments no playlist lists, answered 404 by the edge; none reach the origin", u)})
	}
	for i := range s.paths {
		p := &s.paths[i]
		if fd, ok := cacheBusting(s, p); ok {
			out, explained = append(out, fd), explained+fd.rate
		} else if fd, ok := expensiveFlood(s, b, p); ok {
			out, explained = append(out, fd), explained+fd.rate
		}
	}
	if f.guard >= minAttackRate && f.guard >= expensiveFactor*b.guard+minAttackRate {
		out = append(out, finding{class: Connection, rate: f.guard,
			reason: fmt.Sprintf("connection guard refusing %.0f/s (baseline %.1f/s)", f.guard, b.guard)})
	}
	if rest := f.heavy - explained; rest >= minAttackRate && f.heavy >= floodFactor*b.heavy+minAttackRate {
		out = append(out, finding{class: GetFlood, rate: rest, reason: fmt.Sprintf(
			"%d sources not player-like (heavy, or polling a playlist without its segments) send %.0f req/s (baseline %.1f/s)", len(f.abusive), f.heavy, b.heavy)})
	}
	for i := range s.fps {
		if fd, ok := botnet(s, b, &s.fps[i]); ok {
			out = append(out, fd)
		}
	}
	// Unknown, like botnet, is not read into traffic that mostly fails:
	// players retrying what the edge cannot give them are not player-like.
	if len(out) == 0 && b.warm() && b.player > 0 && f.rate >= floodFactor*b.rate+minAttackRate &&
		f.playerShare < 0.5*b.player && f.failRatio < failingShare {
		out = append(out, finding{class: Unknown, rate: f.rate - b.rate, reason: fmt.Sprintf(
			"rate %.0f/s is %.1f× baseline and %.0f%% player-like (baseline %.0f%%), no specific signal",
			f.rate, f.rate/b.rate, 100*f.playerShare, 100*b.player)})
	}
	return out
}

func cacheBusting(s *second, p *pathEntry) (finding, bool) {
	n := s.rate(uint64(p.n))
	queries, srcs := hllCount(p.queries[:]), hllCount(p.srcs[:])
	if n < minAttackRate || s.rate(uint64(p.withQuery)) < minAttackRate ||
		queries < bustQueryRatio*float64(p.withQuery) || queries < bustPerSource*max(srcs, 1) ||
		float64(p.miss) < bustMissShare*float64(p.withQuery) {
		return finding{}, false
	}
	// The rate is that of the requests with a query: the flood proper,
	// not the plain requests sharing the path.
	return finding{class: CacheBust, rate: s.rate(uint64(p.withQuery)), path: p, reason: fmt.Sprintf(
		"%s (%s): %.0f req/s, ~%.0f distinct query strings from ~%.0f sources sending queries, %.0f%% misses",
		p.path, p.class, n, queries, srcs, 100*float64(p.miss)/float64(p.n))}, true
}

func expensiveFlood(s *second, b *baseline, p *pathEntry) (finding, bool) {
	n, base := s.rate(uint64(p.n)), b.path[p.key]
	api := p.class == telemetry.ClassAPI || p.class == telemetry.ClassUnknown
	if !api || 2*p.expense < p.n || n < minAttackRate || n < expensiveFactor*base+minAttackRate {
		return finding{}, false
	}
	return finding{class: LoginFlood, rate: n, path: p, reason: fmt.Sprintf(
		"expensive endpoint %s: %.0f req/s (baseline %.1f/s), %.0f%% reach the origin",
		p.path, n, base, 100*float64(p.miss)/float64(p.n))}, true
}

// botnet: many light sources sharing a fingerprint, not player-like, far
// above its baseline, and served. When most of the fingerprint's requests
// fail, its players are retrying the playlists the edge cannot give them
// (a saturated crowd looks just like that): the verdict is then the
// failure, not a botnet, and no one is challenged for the edge's fault.
func botnet(s *second, b *baseline, e *fpEntry) (finding, bool) {
	n, base, srcs := s.rate(uint64(e.n)), b.fp[e.key], hllCount(e.srcs[:])
	if n < minAttackRate || srcs < botnetMinSources || n/srcs > heavySourceRate ||
		float64(e.player) > botnetPlayerShare*float64(e.n) || n < floodFactor*base+minAttackRate ||
		float64(e.fail) >= failingShare*float64(e.n) {
		return finding{}, false
	}
	fd := finding{class: Botnet, rate: n, fp: e, reason: fmt.Sprintf(
		"fingerprint %016x (%q): %.0f req/s (baseline %.1f/s) from ~%.0f sources, %.1f req/s each, %.0f%% media",
		e.key, e.ua, n, base, srcs, n/srcs, 100*float64(e.player)/float64(e.n))}
	if float64(e.costless) >= cheapShare*float64(e.n) {
		fd.told = true
		fd.reason += fmt.Sprintf(", %.0f%% listed objects at a player's pace (cache hits): served, no mitigation",
			100*float64(e.costless)/float64(e.n))
	}
	return fd, true
}

// calm judges a second without attack signals.
func calm(b *baseline, f *features) (Verdict, string) {
	if !b.warm() {
		return Normal, "learning the baseline"
	}
	if f.rate >= minJudgedRequests && f.errRatio >= originErrRatio && f.errRatio >= 3*b.errRatio+0.05 {
		return OriginFailure, fmt.Sprintf("%.0f%% of requests ended in error or stale (baseline %.1f%%)",
			100*f.errRatio, 100*b.errRatio)
	}
	if f.missN >= minJudgedRequests && f.missLat >= originMinLat && f.missLat >= originLatFactor*b.missLat {
		return OriginFailure, fmt.Sprintf("origin answers in %.0f ms (baseline %.0f ms)", 1e3*f.missLat, 1e3*b.missLat)
	}
	if f.hitN >= minJudgedRequests && f.hitLat >= saturationMinLat && f.hitLat >= saturationFactor*b.hitLat {
		return Saturation, fmt.Sprintf("cache hits take %.0f ms (baseline %.1f ms), no anomalous source",
			1e3*f.hitLat, 1e3*b.hitLat)
	}
	if f.rate >= flashFactor*b.rate && f.rate-b.rate >= flashMinRate {
		return FlashCrowd, fmt.Sprintf("rate %.0f/s is %.1f× baseline, %.0f new sources/s (%.0f%% of %.0f), "+
			"%.0f%% player-like, %.0f%% misses, no abusive source: no mitigation",
			f.rate, f.rate/max(b.rate, 1e-9), f.newSources, 100*f.newRatio, f.sources, 100*f.playerShare, 100*f.missRatio)
	}
	return Normal, ""
}
