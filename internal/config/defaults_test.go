package config

import (
	"reflect"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	c := &Config{Sites: []Site{{Hosts: []string{"A.Example.COM", "*"}}}}
	c.Defaults()
	s := c.Sites[0]
	tests := []struct {
		key       string
		got, want any
	}{
		{"listen", c.Listen, "127.0.0.1:8080"},
		{"tls.cert_file", c.TLS.CertFile, ""},
		{"h2c", c.H2C, false},
		{"admin.listen", c.Admin.Listen, "127.0.0.1:9090"},
		{"admin.pprof", *c.Admin.Pprof, true},
		{"limits.read_header_timeout", c.Limits.ReadHeaderTimeout, 5 * time.Second},
		{"limits.read_timeout", c.Limits.ReadTimeout, 30 * time.Second},
		{"limits.write_timeout", c.Limits.WriteTimeout, 60 * time.Second},
		{"limits.idle_timeout", c.Limits.IdleTimeout, 60 * time.Second},
		{"limits.max_header_bytes", c.Limits.MaxHeaderBytes, 16384},
		{"limits.shutdown_timeout", c.Limits.ShutdownTimeout, 10 * time.Second},
		{"cache.max_bytes", c.Cache.MaxBytes, ByteSize(256 << 20)},
		{"cache.max_object_bytes", c.Cache.MaxObjectBytes, ByteSize(32 << 20)},
		{"cache.wait_timeout", c.Cache.WaitTimeout, 10 * time.Second},
		{"sites[0].hosts", s.Hosts, []string{"a.example.com", "*"}},
		{"upstream.connect_timeout", s.Upstream.ConnectTimeout, 2 * time.Second},
		{"upstream.response_header_timeout", s.Upstream.ResponseHeaderTimeout, 5 * time.Second},
		{"upstream.fetch_timeout", s.Upstream.FetchTimeout, 30 * time.Second},
		{"upstream.max_concurrency", s.Upstream.MaxConcurrency, 256},
		{"upstream.queue_timeout", s.Upstream.QueueTimeout, time.Second},
		{"upstream.max_idle_conns", s.Upstream.MaxIdleConns, 64},
		{"upstream.retries", *s.Upstream.Retries, 1},
		{"upstream.breaker_failures", s.Upstream.BreakerFailures, 5},
		{"upstream.breaker_cooldown", s.Upstream.BreakerCooldown, 5 * time.Second},
		{"upstream.unknown_share", s.Upstream.UnknownShare, 0.25},
		{"unknown_gate", *s.UnknownGate, true},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s = %v, want %v", tt.key, tt.got, tt.want)
		}
	}
}

func TestDefaultsKeepSetValues(t *testing.T) {
	c := &Config{
		Listen: ":1", Admin: Admin{Listen: "off", Pprof: ptr(false)},
		Limits: Limits{ReadTimeout: time.Minute, MaxHeaderBytes: 4096},
		Cache:  Cache{MaxBytes: 1 << 30},
		Sites:  []Site{{Upstream: Upstream{Retries: ptr(0), MaxConcurrency: 9}}},
	}
	c.Defaults()
	u := c.Sites[0].Upstream
	if c.Listen != ":1" || c.Admin.Listen != "off" || *c.Admin.Pprof || c.Limits.ReadTimeout != time.Minute ||
		c.Limits.MaxHeaderBytes != 4096 || c.Cache.MaxBytes != 1<<30 || *u.Retries != 0 || u.MaxConcurrency != 9 {
		t.Errorf("Defaults changed set values: %+v", c)
	}
}

func TestDefaultsIdempotent(t *testing.T) {
	a := validConfig()
	b := validConfig()
	b.Defaults()
	if !reflect.DeepEqual(a, b) {
		t.Errorf("second Defaults changed the config:\n%+v\n%+v", a, b)
	}
}
