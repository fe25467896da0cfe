package filter

import (
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/telemetry"
)

// Bounds SetRates clamps to.
const (
	MinRate  = 0.001 // one request per 1000 s: Retry-After stays under 17 minutes
	MaxRate  = 1e6
	MaxBurst = 1e6
	maxRates = 64 // rate limits applied; more are dropped
)

// keyKind is what a rate limit counts by.
type keyKind uint8

const (
	keyIP keyKind = iota
	keyPrefix
	keyFingerprint
)

var keyKinds = map[string]keyKind{"ip": keyIP, "prefix": keyPrefix, "fingerprint": keyFingerprint}

// limiter is one configured rate limit and its table of buckets.
type limiter struct {
	kind  keyKind
	class telemetry.Class // ClassUnknown: every class
	paths []string        // empty: every path
	rate  float64
	burst float64
	table *keyTable
	sig   string // what the buckets count: kept across a reload when unchanged
}

// take takes a token for the request if the limit applies to it, and
// returns how long to wait when there was none.
func (l *limiter) take(class telemetry.Class, addr, pfx netip.Addr, fp uint64, path string, now int64) time.Duration {
	if l.class != telemetry.ClassUnknown && class != l.class {
		return 0
	}
	if len(l.paths) > 0 && !hasAnyPrefix(path, l.paths) {
		return 0
	}
	var k key
	switch l.kind {
	case keyIP:
		k = addrKey(addr)
	case keyPrefix:
		k = addrKey(pfx)
	case keyFingerprint:
		if fp == 0 {
			return 0 // not fingerprinted: nothing to count by
		}
		k = key{fp: fp}
	}
	return l.table.take(k, now, l.rate, l.burst)
}

func hasAnyPrefix(path string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// aggregate returns the first address of addr's /24 (IPv4) or /64 (IPv6):
// what the "prefix" key counts, one household or small network.
func aggregate(addr netip.Addr) netip.Addr {
	bits := 64
	if addr.Is4() {
		bits = 24
	}
	p, _ := addr.Prefix(bits)
	return p.Addr()
}

// SetRates replaces the rate limits, clamping each to what the Shield can
// apply, and returns what it applied. Rates are clamped to [MinRate,
// MaxRate] and bursts to [1, MaxBurst] (0 meaning max(1, 2×rate)); a limit
// with an unknown key or class, no valid path left, or a rate that is not
// a number is dropped and logged, as are limits past the 64th. Limits whose
// key, class and paths are unchanged keep their buckets.
func (s *Shield) SetRates(rates []config.RateLimit) (applied []config.RateLimit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.setRatesLocked(rates)
}

func (s *Shield) setRatesLocked(rates []config.RateLimit) []config.RateLimit {
	old := make(map[string][]*keyTable)
	for _, l := range *s.limits.Load() {
		old[l.sig] = append(old[l.sig], l.table)
	}
	ls := make([]*limiter, 0, len(rates))
	applied := make([]config.RateLimit, 0, len(rates))
	for i, rl := range rates {
		if len(ls) == maxRates {
			s.logger.Warn("rate limits dropped past the most the shield applies", "max", maxRates, "dropped", len(rates)-i)
			break
		}
		l, a, err := buildLimiter(rl)
		if err != nil {
			s.logger.Warn("rate limit dropped", "index", i, "err", err)
			continue
		}
		maxKeys := int(s.maxKeys.Load())
		l.sig = fmt.Sprintf("%s|%d|%s", l.sig, maxKeys, strings.Join(l.paths, "\x00"))
		if ts := old[l.sig]; len(ts) > 0 {
			l.table, old[l.sig] = ts[0], ts[1:]
		} else {
			l.table = newKeyTable(maxKeys)
		}
		ls = append(ls, l)
		applied = append(applied, a)
	}
	s.limits.Store(&ls)
	return applied
}

// buildLimiter clamps rl; the caller sets the table.
func buildLimiter(rl config.RateLimit) (*limiter, config.RateLimit, error) {
	kind, ok := keyKinds[rl.Key]
	if !ok {
		return nil, rl, fmt.Errorf("key %q: want ip, prefix or fingerprint", rl.Key)
	}
	l := &limiter{kind: kind, sig: rl.Key}
	if rl.Class != "" && rl.Class != "*" {
		c, err := telemetry.ParseClass(rl.Class)
		if err != nil {
			return nil, rl, fmt.Errorf("class: %w", err)
		}
		l.class = c
	}
	l.sig += "|" + l.class.String()
	if l.paths = validPaths(rl.Paths); len(rl.Paths) > 0 && len(l.paths) == 0 {
		// Dropping them all would widen the limit to every path.
		return nil, rl, fmt.Errorf("paths %q: want paths starting with /", rl.Paths)
	}
	if math.IsNaN(rl.Rate) {
		return nil, rl, fmt.Errorf("rate is not a number")
	}
	rl.Rate = min(max(rl.Rate, MinRate), MaxRate)
	if rl.Burst <= 0 {
		rl.Burst = int(max(1, math.Ceil(2*rl.Rate))) // as config fills it
	}
	rl.Burst = min(rl.Burst, MaxBurst)
	rl.Paths = l.paths
	l.rate, l.burst = rl.Rate, float64(rl.Burst)
	return l, rl, nil
}

// validPaths keeps the paths that start with /.
func validPaths(paths []string) []string {
	var out []string
	for _, p := range paths {
		if strings.HasPrefix(p, "/") {
			out = append(out, p)
		}
	}
	return out
}
