package detect

import (
	"fmt"
	"math/bits"
	"net/netip"
	"time"

	"github.com/rempart/rempart/internal/mitigation"
)

// Mitigation limits and timing.
const (
	// liftAfter is how long a mitigation stays once its traffic stopped
	// matching, when the TTL is longer: ten seconds of calm is enough to
	// say an attack stopped, and lifting sooner gives back the edge to
	// viewers sooner. A returning attack is confirmed again in 2 s.
	liftAfter = 10 * time.Second
	maxBlocks = 256 // block mitigations proposed per second
	// minWholePrefix is the fewest heavy sources a prefix must hold for
	// its other addresses to be challenged (challenge_prefix); with fewer,
	// only the sources themselves are blocked, so that a /24 where a few
	// attackers showed up before its viewers asks nothing of them.
	minWholePrefix = 32
	maxActive      = 1024 // detector mitigations active at once
	shedFloor      = 50   // the least rate shed_route lets through
	// minAggregateThrottle is the lowest rate a botnet's fingerprint keeps
	// as a whole.
	minAggregateThrottle = 5.0
	sourceName           = "detector"
)

// proposal is a mitigation the rules want, before the budget is checked.
type proposal struct {
	m     mitigation.Mitigation
	share float64 // estimated share of the legitimate traffic it would hit
	class AttackClass
}

// plan turns the confirmed findings into proposals.
func (d *Detector) plan(s *second, f *features, confirmed []finding) []proposal {
	var out []proposal
	if c, ok := blockOwner(confirmed); ok {
		out = d.planBlocks(s, f, c, out)
	}
	for i := range confirmed {
		fd := &confirmed[i]
		if fd.told {
			continue
		}
		switch fd.class {
		case CacheBust:
			out = append(out, d.planStrip(s, fd))
		case LoginFlood:
			// Shedding caps the route for everyone, real users too: only
			// when the blocks of heavy sources cannot answer the flood.
			if heavyRate(s, f.abusive) < shedWhenHeavyBelow*fd.rate {
				out = append(out, d.planShed(s, fd))
			}
		case Botnet:
			out = d.planBotnet(s, fd, out)
		case Unknown:
			out = append(out, attackMode(fd))
		}
	}
	return out
}

// blockOwner picks the attack that blocks of heavy abusive sources are
// filed under: the flood if there is one, else the attack they drive.
func blockOwner(confirmed []finding) (AttackClass, bool) {
	for _, c := range []AttackClass{GetFlood, CacheBust, LoginFlood, Connection} {
		for _, fd := range confirmed {
			if fd.class == c {
				return c, true
			}
		}
	}
	return "", false
}

// planBlocks blocks the heavy non-player sources one by one. Where a
// prefix holds many of them and nothing else, its other addresses (the
// attackers' next ones, or a viewer arriving) are challenged: attack mode
// for that prefix alone, which a bot fails as cheaply as a block refuses
// it, and a viewer solves.
func (d *Detector) planBlocks(s *second, f *features, c AttackClass, out []proposal) []proposal {
	order, groups := groupByPrefix(f.abusive)
	n := 0
	for _, key := range order {
		srcs := groups[key]
		pe := s.pfxs[s.pfxIdx[key]]
		share := d.share(s, key)
		// Nothing in the prefix plays and all its traffic this second is
		// the heavy sources': one viewer among attackers, or a light
		// source that may be a viewer fetching its first playlist (not
		// player-like yet), keeps it unchallenged.
		var heavyN uint32
		for _, e := range srcs {
			heavyN += e.n
		}
		if pe.player == 0 && pe.n <= heavyN && len(srcs) >= minWholePrefix {
			out = append(out, challengePrefix(pe.pfx, share, c, fmt.Sprintf(
				"%s: %d heavy sources not player-like, %.0f req/s, %.0f%% media; its other addresses are challenged",
				c, len(srcs), s.rate(uint64(pe.n)), 100*float64(pe.player)/float64(pe.n))))
			n++
		}
		for _, e := range srcs {
			host := netip.PrefixFrom(e.addr, e.addr.BitLen())
			out = append(out, blockPrefix(host, d.sourceShare(s, &e), c, fmt.Sprintf(
				"%s: %.0f req/s, %.0f%% media at a player's pace, %.0f%% repeats past it, %d playlists for %d segments, ~%d distinct URLs (its prefix %s is %.0f%% media, %.1f%% of legitimate traffic)",
				c, s.rate(uint64(e.n)), 100*float64(e.player)/float64(e.n), 100*float64(e.offbeat)/float64(e.n), e.lists, e.segs, distinctURLs(e.urls),
				pe.pfx, 100*float64(pe.player)/float64(pe.n), 100*share)))
			n++
		}
		if n >= maxBlocks {
			break
		}
	}
	return out
}

func groupByPrefix(srcs []srcEntry) ([]uint64, map[uint64][]srcEntry) {
	var order []uint64
	groups := map[uint64][]srcEntry{}
	for _, e := range srcs {
		k := prefixKey(e.pfx)
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], e)
	}
	return order, groups
}

func challengePrefix(p netip.Prefix, share float64, c AttackClass, reason string) proposal {
	return proposal{class: c, share: share, m: mitigation.Mitigation{
		ID: "detect/challenge_prefix/" + p.String(), Kind: mitigation.ChallengePrefix, Prefix: p, Reason: reason}}
}

func blockPrefix(p netip.Prefix, share float64, c AttackClass, reason string) proposal {
	return proposal{class: c, share: share, m: mitigation.Mitigation{
		ID: "detect/block_prefix/" + p.String(), Kind: mitigation.BlockPrefix, Prefix: p, Reason: reason}}
}

func (d *Detector) planStrip(s *second, fd *finding) proposal {
	c := fd.path.class
	share := 0.0
	if d.base.legitN > 0 {
		share = d.base.legitQuery[c] / d.base.legitN
	}
	if s.legitN > 0 {
		share = max(share, float64(s.legitQuery[c])/float64(s.legitN))
	}
	return proposal{class: CacheBust, share: share, m: mitigation.Mitigation{
		ID: "detect/strip_params/" + c.String(), Kind: mitigation.StripParams, Class: c.String(),
		Reason: "cache_bust: " + fd.reason}}
}

// shedWhenHeavyBelow: a login flood is shed only when its heavy sources
// (blocked one by one) carry less than this share of it.
const shedWhenHeavyBelow = 0.5

// heavyRate is the request rate of the heavy abusive sources.
func heavyRate(s *second, srcs []srcEntry) float64 {
	var n uint64
	for _, e := range srcs {
		n += uint64(e.n)
	}
	return s.rate(n)
}

// planShed caps the path at three times its baseline (or shedFloor). The
// legitimate traffic hit is the path's baseline share times the share
// that is shed.
func (d *Detector) planShed(s *second, fd *finding) proposal {
	p := fd.path
	base := d.base.path[p.key]
	rate := max(3*base, shedFloor)
	share := 0.0
	if d.base.rate > 0 {
		share = min(1, base/d.base.rate) * max(0, 1-rate/fd.rate)
	}
	return proposal{class: LoginFlood, share: share, m: mitigation.Mitigation{
		ID: "detect/shed_route/" + p.path, Kind: mitigation.ShedRoute, Path: p.path, Rate: rate,
		Reason: fmt.Sprintf("login_flood: %s; shed above %.0f/s", fd.reason, rate)}}
}

// planBotnet throttles the fingerprint; where that would hit viewers
// sharing it, it turns attack mode on instead. It blocks no prefix then:
// attack mode already answers every new bot with a cheap 403 challenge,
// while a prefix block would refuse the viewers arriving in that prefix
// too, who are not player-like yet as they fetch their first playlist
// (siege's botnet-mimic at scale 0.5 lost a third of its viewers so).
func (d *Detector) planBotnet(s *second, fd *finding, out []proposal) []proposal {
	e := fd.fp
	share := d.share(s, fingerKey(e.key))
	// Each bot stays under any per-address rate, so the whole fingerprint
	// shares one bucket: a tenth of what it sends now. The budget below
	// vetoes this when viewers share the fingerprint.
	out = append(out, proposal{class: Botnet, share: share, m: mitigation.Mitigation{
		ID:   fmt.Sprintf("detect/throttle_fingerprint/%016x", e.key),
		Kind: mitigation.ThrottleFingerprint, Fingerprint: e.key, Aggregate: true,
		Rate: max(minAggregateThrottle, fd.rate/10), Reason: "botnet: " + fd.reason}})
	if share <= d.cfg.FalsePositiveBudget {
		return out
	}
	return append(out, attackMode(fd))
}

func attackMode(fd *finding) proposal {
	return proposal{class: fd.class, m: mitigation.Mitigation{ID: "detect/attack_mode",
		Kind: mitigation.AttackMode, Reason: string(fd.class) + ": " + fd.reason}}
}

// share estimates the fraction of legitimate (player-like) traffic a
// mitigation on key would hit: the larger of its share in the baseline and
// in this second, so that a crowd the baseline has not learned yet is
// protected too.
func (d *Detector) share(s *second, key uint64) float64 {
	return max(d.base.legitShare(key), s.legitShare(key))
}

// sourceShare is share for a source's key. A source repeating URLs past a
// player's pace, or polling a playlist, has its first few asks of each URL
// (or all its polls) counted player-like this second: they are the same
// flood, so only the baseline's share counts for it (a crowd the baseline
// has not learned keeps its pace).
func (d *Detector) sourceShare(s *second, e *srcEntry) float64 {
	if e.repeating() || e.polling(s) {
		return d.base.legitShare(e.key)
	}
	return d.share(s, e.key)
}

// distinctURLs reads a source's 64-bit URL bitmap (a lower bound past a
// few dozen URLs).
func distinctURLs(b uint64) int { return bits.OnesCount64(b) }
