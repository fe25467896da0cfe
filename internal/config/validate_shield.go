package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
)

// maxRate bounds a rate limit's requests per second: far above any one
// client's honest rate, low enough that 2 × Rate fits a burst.
const maxRate = 1e6

func (s *Shield) validate(v *validator) {
	switch s.Mode {
	case "on", "shadow", "off":
	default:
		v.bad("shield.mode", s.Mode, `"on", "shadow" or "off"`)
	}
	v.cidrs("shield.trusted_proxies", s.TrustedProxies, "any client could choose its own address")
	v.trustCoverage("shield.trusted_proxies", s.TrustedProxies)
	if s.ProxyProtocol && len(s.TrustedProxies) == 0 {
		v.bad("shield.proxy_protocol", true, "false, or shield.trusted_proxies listing the proxies that send the header")
	}
	s.Conns.validate(v)
	for i := range s.Rates {
		s.Rates[i].validate(v, fmt.Sprintf("shield.rates[%d]", i))
	}
	v.between("shield.max_keys", s.MaxKeys, 1000, 100000000)
	v.cidrs("shield.allow", s.Allow, `use shield.mode "off" to turn the shield off`)
	for i, f := range s.BlockFiles {
		v.readable(fmt.Sprintf("shield.block_files[%d]", i), f, "file of CIDRs")
	}
	v.between("shield.max_blocks", s.MaxBlocks, 1, 100000000)
	s.Detect.validate(v)
	s.Challenge.validate(v)
	s.Evidence.validate(v)
	s.Pressure.validate(v)
}

func (p *Pressure) validate(v *validator) {
	v.durationIn("shield.pressure.sched_latency", p.SchedLatency, time.Millisecond, time.Second)
	if !(p.Share >= 1 && p.Share <= 100) {
		v.bad("shield.pressure.share", p.Share, "a number from 1 to 100 (times the mean rate per source), such as 2")
	}
}

// cidrs checks that every entry of list is a CIDR or a bare IP, and not a
// /0, which why0 explains.
func (v *validator) cidrs(key string, list []string, why0 string) {
	for i, s := range list {
		ik := fmt.Sprintf("%s[%d]", key, i)
		p, err := parseCIDR(s)
		switch {
		case err != nil:
			v.bad(ik, s, "a CIDR such as 192.0.2.0/24 or 2001:db8::/32, or an IP address")
		case p.Bits() == 0:
			v.bad(ik, s, "a prefix longer than /0 ("+why0+")")
		}
	}
}

func (c *ConnLimits) validate(v *validator) {
	const maxTotal = 10000000
	v.between("shield.conns.total", c.Total, 1, maxTotal)
	v.between("shield.conns.per_ip", c.PerIP, 1, min(max(c.Total, 1), maxTotal))
	if c.MinRate < 0 || c.MinRate > 1<<30 {
		v.bad("shield.conns.min_rate", c.MinRate, "a size per second from 0B to 1GiB")
	}
	v.duration("shield.conns.min_rate_window", c.MinRateWindow, 10*time.Minute)
	if !(c.RequestRate > 0 && c.RequestRate <= 1e6) {
		v.bad("shield.conns.request_rate", c.RequestRate, "requests per second above 0 and at most 1000000")
	}
	v.between("shield.conns.request_burst", c.RequestBurst, 1, 1000000)
	if !(c.ResetRate > 0 && c.ResetRate <= 1e6) {
		v.bad("shield.conns.reset_rate", c.ResetRate, "cancelled streams per second above 0 and at most 1000000")
	}
	v.between("shield.conns.reset_burst", c.ResetBurst, 1, 1000000)
}

func (r *RateLimit) validate(v *validator, key string) {
	switch r.Key {
	case "ip", "prefix", "fingerprint":
	default:
		v.bad(key+".key", r.Key, `"ip", "prefix" or "fingerprint"`)
	}
	if _, err := telemetry.ParseClass(r.Class); err != nil && r.Class != "" && r.Class != "*" {
		v.bad(key+".class", r.Class, `a class name, one of `+strings.Join(telemetry.ClassNames(), ", ")+`, or "" or "*" for all`)
	}
	for j, p := range r.Paths {
		if !strings.HasPrefix(p, "/") {
			v.bad(fmt.Sprintf("%s.paths[%d]", key, j), p, `a path prefix starting with "/", such as /api/login`)
		}
	}
	if !(r.Rate > 0 && r.Rate <= maxRate) { // also refuses NaN
		v.bad(key+".rate", r.Rate, "requests per second above 0 and at most 1000000")
	}
	if r.Burst < 0 {
		v.bad(key+".burst", r.Burst, "a number of requests ≥ 0 (0: max(1, 2 × rate))")
	}
}

func (d *Detect) validate(v *validator) {
	const lo, hi = 100 * time.Millisecond, time.Minute
	if d.Interval < lo || d.Interval > hi {
		v.bad("shield.detect.interval", d.Interval, fmt.Sprintf("a duration from %s to %s", lo, hi))
	}
	if d.Baseline < d.Interval || d.Baseline > 24*time.Hour {
		v.bad("shield.detect.baseline", d.Baseline,
			fmt.Sprintf("a duration from shield.detect.interval (%s) to 24h", d.Interval))
	}
	v.duration("shield.detect.mitigation_ttl", d.MitigationTTL, 24*time.Hour)
	v.fraction("shield.detect.false_positive_budget", d.FalsePositiveBudget)
	v.durationIn("shield.detect.baseline_every", d.BaselineEvery, time.Second, time.Hour)
	v.durationIn("shield.detect.baseline_max_age", d.BaselineMaxAge, time.Minute, 7*24*time.Hour)
	if d.BaselineFile != "" {
		v.fileInDir("shield.detect.baseline_file", d.BaselineFile)
	}
}

// fileInDir checks that path names a file (not a directory) whose
// directory exists, for files the edge writes.
func (v *validator) fileInDir(key, path string) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		v.bad(key, path, "a file path, not a directory")
		return
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		v.bad(key, path, fmt.Sprintf("a file in an existing directory (%s: create it first)", dir))
	}
}

// fraction checks 0 ≤ f ≤ 1, refusing NaN.
func (v *validator) fraction(key string, f float64) {
	if !(f >= 0 && f <= 1) {
		v.bad(key, f, "a fraction from 0 to 1, such as 0.01")
	}
}

func (c *Challenge) validate(v *validator) {
	const maxBits = 32
	v.between("shield.challenge.difficulty", c.Difficulty, 1, maxBits)
	if c.MaxDifficulty < c.Difficulty || c.MaxDifficulty > maxBits {
		v.bad("shield.challenge.max_difficulty", c.MaxDifficulty,
			fmt.Sprintf("bits from shield.challenge.difficulty (%d) to %d", c.Difficulty, maxBits))
	}
	v.duration("shield.challenge.clearance_ttl", c.ClearanceTTL, 30*24*time.Hour)
	if c.KeyFile != "" {
		v.readable("shield.challenge.key_file", c.KeyFile, "key file")
	}
	if c.TokenKeyFile != "" {
		v.readable("shield.challenge.token_key_file", c.TokenKeyFile, "key file")
	}
}

func (e *Evidence) validate(v *validator) {
	if e.Dir != "" && e.MaxBytes < 1<<20 {
		v.bad("shield.evidence.max_bytes", e.MaxBytes, "a size of at least 1MiB")
	}
	v.fraction("shield.evidence.sample_rate", e.SampleRate)
	v.between("shield.evidence.per_second", e.PerSecond, 1, 100000)
	e.validateKeep(v)
}
