package config

import (
	"math"
	"net/netip"
	"strings"
	"time"
)

// Defaults fills every zero (unset) field with the default named in its
// doc comment, and normalizes what the edge matches exactly: site hosts are
// lowercased. It is the only place defaults live; it is idempotent, and
// leaves set values alone, even invalid ones, for Validate to report.
func (c *Config) Defaults() {
	setDefault(&c.Listen, "127.0.0.1:8080")
	setDefault(&c.Admin.Listen, "127.0.0.1:9090")
	setDefaultPtr(&c.Admin.Pprof, true)

	l := &c.Limits
	setDefault(&l.ReadHeaderTimeout, 5*time.Second)
	setDefault(&l.ReadTimeout, 30*time.Second)
	setDefault(&l.WriteTimeout, 60*time.Second)
	setDefault(&l.IdleTimeout, 60*time.Second)
	setDefault(&l.MaxHeaderBytes, 16<<10)
	setDefault(&l.ShutdownTimeout, 10*time.Second)

	setDefault(&c.Cache.MaxBytes, 256<<20)
	setDefault(&c.Cache.MaxObjectBytes, 32<<20)
	setDefault(&c.Cache.WaitTimeout, 10*time.Second)

	c.Shield.defaults()
	for i := range c.Sites {
		c.Sites[i].defaults()
	}
}

func (s *Site) defaults() {
	for i, h := range s.Hosts {
		s.Hosts[i] = strings.ToLower(h)
	}
	u := &s.Upstream
	setDefault(&u.ConnectTimeout, 2*time.Second)
	setDefault(&u.ResponseHeaderTimeout, 5*time.Second)
	setDefault(&u.FetchTimeout, 30*time.Second)
	setDefault(&u.MaxConcurrency, 256)
	setDefault(&u.QueueTimeout, time.Second)
	setDefault(&u.MaxIdleConns, 64)
	setDefaultPtr(&u.Retries, 1)
	setDefault(&u.BreakerFailures, 5)
	setDefault(&u.BreakerCooldown, 5*time.Second)
	u.Adaptive.defaults()
	setDefault(&u.UnknownShare, 0.25)
	s.Admission.defaults()
	s.Streams.defaults()
	setDefaultPtr(&s.UnknownGate, true)
	// Classes need no defaults here: Site.Policy resolves unset fields
	// against ClassDefaults.
}

// defaults fills the shield's zero fields and normalizes its CIDRs.
func (s *Shield) defaults() {
	setDefault(&s.Mode, "on")
	normalizeCIDRs(s.TrustedProxies)
	normalizeCIDRs(s.Allow)
	setDefault(&s.Conns.PerIP, 256)
	setDefault(&s.Conns.Total, 100000)
	setDefault(&s.Conns.MinRate, 4<<10)
	setDefault(&s.Conns.MinRateWindow, 10*time.Second)
	setDefault(&s.Conns.RequestRate, 100)
	setDefault(&s.Conns.RequestBurst, 400)
	setDefault(&s.Conns.ResetRate, 5)
	setDefault(&s.Conns.ResetBurst, 50)
	if s.Rates == nil { // nil: unset; an empty list means no rate limits
		s.Rates = DefaultRates()
	}
	for i := range s.Rates {
		s.Rates[i].defaults()
	}
	setDefault(&s.MaxKeys, 200000)
	setDefault(&s.MaxBlocks, 1000000)

	d := &s.Detect
	setDefaultPtr(&d.Enabled, true)
	setDefault(&d.Interval, time.Second)
	setDefault(&d.Baseline, 10*time.Minute)
	setDefault(&d.MitigationTTL, 2*time.Minute)
	setDefault(&d.FalsePositiveBudget, 0.01)
	setDefault(&d.BaselineEvery, time.Minute)
	setDefault(&d.BaselineMaxAge, 24*time.Hour)

	setDefault(&s.Challenge.Difficulty, 16)
	setDefault(&s.Challenge.MaxDifficulty, 22)
	setDefault(&s.Challenge.ClearanceTTL, time.Hour)

	s.Evidence.Defaults()

	setDefaultPtr(&s.Pressure.Enabled, true)
	setDefault(&s.Pressure.SchedLatency, 10*time.Millisecond)
	setDefault(&s.Pressure.Share, 2.0)
}

// DefaultRates returns the rate limits used when shield.rates is unset: per
// client address, a budget per route class sized for a few players behind
// one address, and a strict one for the origin-expensive login and search
// paths; per prefix (IPv4 /24, IPv6 /64), a wide one, since a /24 may hold
// a whole NAT'd campus. Each call returns a new slice.
func DefaultRates() []RateLimit {
	return []RateLimit{
		{Key: "ip", Class: "segment", Rate: 100, Burst: 200},
		{Key: "ip", Class: "media_playlist", Rate: 50, Burst: 100},
		{Key: "ip", Class: "master_playlist", Rate: 10, Burst: 20},
		{Key: "ip", Class: "ondemand", Rate: 50, Burst: 100},
		{Key: "ip", Class: "api", Rate: 20, Burst: 40},
		{Key: "ip", Paths: []string{"/api/login", "/api/search"}, Rate: 2, Burst: 5},
	}
}

// defaults fills an unset Burst with max(1, 2 × Rate). A Rate that Validate
// will refuse (not above 0, over its bound, NaN) leaves Burst alone.
func (r *RateLimit) defaults() {
	if r.Burst != 0 || !(r.Rate > 0 && r.Rate <= maxRate) {
		return
	}
	r.Burst = max(1, int(math.Ceil(2*r.Rate)))
}

// normalizeCIDRs rewrites each valid entry of list as its masked prefix (a
// bare IP becomes /32 or /128, an IPv4-mapped IPv6 prefix becomes IPv4), so
// that the shield compares like with like. Invalid entries are left for
// Validate to report.
func normalizeCIDRs(list []string) {
	for i, s := range list {
		if p, err := parseCIDR(s); err == nil {
			list[i] = p.String()
		}
	}
}

// parseCIDR parses a CIDR or a bare IP address (without zone) as a masked
// prefix, unmapping IPv4-mapped IPv6 ones.
func parseCIDR(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		a, aerr := netip.ParseAddr(s)
		if aerr != nil || a.Zone() != "" {
			return netip.Prefix{}, err
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}

func setDefaultPtr[T any](p **T, v T) {
	if *p == nil {
		*p = &v
	}
}
