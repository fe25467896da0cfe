package config

import (
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
	// Classes need no defaults here: Site.Policy resolves unset fields
	// against ClassDefaults.
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
