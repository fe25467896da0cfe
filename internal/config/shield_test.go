package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestShieldDefaults(t *testing.T) {
	c := validConfig()
	s := c.Shield
	tests := []struct {
		key       string
		got, want any
	}{
		{"shield.mode", s.Mode, "on"},
		{"shield.trusted_proxies", s.TrustedProxies, []string(nil)},
		{"shield.proxy_protocol", s.ProxyProtocol, false},
		{"shield.conns.per_ip", s.Conns.PerIP, 256},
		{"shield.conns.total", s.Conns.Total, 100000},
		{"shield.conns.min_rate", s.Conns.MinRate, ByteSize(4 << 10)},
		{"shield.conns.min_rate_window", s.Conns.MinRateWindow, 10 * time.Second},
		{"shield.conns.request_rate", s.Conns.RequestRate, 100.0},
		{"shield.conns.request_burst", s.Conns.RequestBurst, 400},
		{"shield.conns.reset_rate", s.Conns.ResetRate, 5.0},
		{"shield.conns.reset_burst", s.Conns.ResetBurst, 50},
		{"shield.rates", s.Rates, DefaultRates()},
		{"shield.max_keys", s.MaxKeys, 200000},
		{"shield.allow", s.Allow, []string(nil)},
		{"shield.max_blocks", s.MaxBlocks, 1000000},
		{"shield.detect.enabled", *s.Detect.Enabled, true},
		{"shield.detect.interval", s.Detect.Interval, time.Second},
		{"shield.detect.baseline", s.Detect.Baseline, 10 * time.Minute},
		{"shield.detect.mitigation_ttl", s.Detect.MitigationTTL, 2 * time.Minute},
		{"shield.detect.false_positive_budget", s.Detect.FalsePositiveBudget, 0.01},
		{"shield.detect.baseline_file", s.Detect.BaselineFile, ""},
		{"shield.detect.baseline_every", s.Detect.BaselineEvery, time.Minute},
		{"shield.detect.baseline_max_age", s.Detect.BaselineMaxAge, 24 * time.Hour},
		{"shield.challenge.difficulty", s.Challenge.Difficulty, 16},
		{"shield.challenge.max_difficulty", s.Challenge.MaxDifficulty, 22},
		{"shield.challenge.clearance_ttl", s.Challenge.ClearanceTTL, time.Hour},
		{"shield.challenge.key_file", s.Challenge.KeyFile, ""},
		{"shield.evidence.dir", s.Evidence.Dir, ""},
		{"shield.evidence.max_bytes", s.Evidence.MaxBytes, ByteSize(1 << 30)},
		{"shield.evidence.sample_rate", s.Evidence.SampleRate, 0.01},
		{"shield.evidence.per_second", s.Evidence.PerSecond, 100},
		{"shield.evidence.key_file", s.Evidence.KeyFile, ""}, // no dir: none
		{"shield.evidence.head_file", s.Evidence.HeadFile, ""},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s = %v, want %v", tt.key, tt.got, tt.want)
		}
	}
}

// TestEvidenceFilesBesideDir: the key and the head default to files
// beside the log's directory, outside it; set paths stay.
func TestEvidenceFilesBesideDir(t *testing.T) {
	e := Evidence{Dir: "/var/lib/rempart/evidence/"}
	e.Defaults()
	if e.KeyFile != "/var/lib/rempart/evidence.key" || e.HeadFile != "/var/lib/rempart/evidence.head" {
		t.Errorf("key %q head %q", e.KeyFile, e.HeadFile)
	}
	set := Evidence{Dir: "ev", KeyFile: "/etc/rempart/evidence.key", HeadFile: "/srv/head"}
	set.Defaults()
	if set.KeyFile != "/etc/rempart/evidence.key" || set.HeadFile != "/srv/head" {
		t.Errorf("set paths changed: %+v", set)
	}
}

func TestDefaultRates(t *testing.T) {
	want := []RateLimit{
		{Key: "ip", Class: "segment", Rate: 100, Burst: 200},
		{Key: "ip", Class: "media_playlist", Rate: 50, Burst: 100},
		{Key: "ip", Class: "master_playlist", Rate: 10, Burst: 20},
		{Key: "ip", Class: "ondemand", Rate: 50, Burst: 100},
		{Key: "ip", Class: "api", Rate: 20, Burst: 40},
		{Key: "ip", Paths: []string{"/api/login", "/api/search"}, Rate: 2, Burst: 5},
	}
	got := DefaultRates()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("DefaultRates() =\n%+v\nwant\n%+v", got, want)
	}
	got[5].Paths[0] = "/changed"
	got[0].Rate = 1
	if again := DefaultRates(); !reflect.DeepEqual(again, want) {
		t.Errorf("DefaultRates shares memory with its callers: %+v", again)
	}
}

// TestShieldRatesNilOrEmpty checks that an unset rates list takes
// DefaultRates while an explicit empty one means no rate limits, both in
// code and through Parse.
func TestShieldRatesNilOrEmpty(t *testing.T) {
	tests := []struct {
		name string
		yaml string // shield section prepended to minimalYAML
		want []RateLimit
	}{
		{"absent", "", DefaultRates()},
		{"null", "shield: {rates: null}\n", DefaultRates()},
		{"bare key", "shield:\n  rates:\n", DefaultRates()},
		{"empty flow", "shield: {rates: []}\n", []RateLimit{}},
		{"one", "shield: {rates: [{key: fingerprint, rate: 0.4}]}\n", []RateLimit{{Key: "fingerprint", Rate: 0.4, Burst: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml+minimalYAML), "rempart.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.Shield.Rates, tt.want) {
				t.Errorf("rates = %#v, want %#v", c.Shield.Rates, tt.want)
			}
		})
	}
	c := &Config{Shield: Shield{Rates: []RateLimit{}}}
	c.Defaults()
	if c.Shield.Rates == nil || len(c.Shield.Rates) != 0 {
		t.Errorf("Defaults turned an empty rates list into %v", c.Shield.Rates)
	}
}

func TestShieldBurstDefault(t *testing.T) {
	tests := []struct {
		rate  float64
		burst int // set
		want  int
	}{
		{0.1, 0, 1}, {0.5, 0, 1}, {0.7, 0, 2}, {1, 0, 2}, {2.5, 0, 5}, {1e6, 0, 2e6},
		{10, 3, 3},  // set values are kept
		{0, 0, 0},   // invalid rates are left for Validate
		{-1, 0, 0},  //
		{2e6, 0, 0}, //
	}
	for _, tt := range tests {
		r := RateLimit{Key: "ip", Rate: tt.rate, Burst: tt.burst}
		r.defaults()
		if r.Burst != tt.want {
			t.Errorf("rate %v burst %d: defaulted burst = %d, want %d", tt.rate, tt.burst, r.Burst, tt.want)
		}
	}
}

func TestShieldCIDRsNormalized(t *testing.T) {
	c := validConfig()
	c.Shield.TrustedProxies = []string{"10.1.2.3/8", "192.0.2.7", "2001:db8::1", "::ffff:198.51.100.0/120", "bogus"}
	c.Shield.Allow = []string{"2001:DB8::/32"}
	c.Defaults()
	want := []string{"10.0.0.0/8", "192.0.2.7/32", "2001:db8::1/128", "198.51.100.0/24", "bogus"}
	if !reflect.DeepEqual(c.Shield.TrustedProxies, want) {
		t.Errorf("trusted_proxies = %q, want %q", c.Shield.TrustedProxies, want)
	}
	if got := c.Shield.Allow; len(got) != 1 || got[0] != "2001:db8::/32" {
		t.Errorf("allow = %q, want [2001:db8::/32]", got)
	}
}

func TestShieldDefaultsKeepSetValues(t *testing.T) {
	c := validConfig()
	c.Shield = Shield{
		Mode: "shadow", Conns: ConnLimits{PerIP: 8}, MaxKeys: 5000,
		Rates:     []RateLimit{{Key: "ip", Rate: 3, Burst: 4}},
		Detect:    Detect{Enabled: ptr(false), Interval: 2 * time.Second},
		Challenge: Challenge{Difficulty: 12}, Evidence: Evidence{SampleRate: 1},
		Pressure: Pressure{Enabled: ptr(false), Share: 3},
	}
	c.Defaults()
	s := c.Shield
	if s.Mode != "shadow" || s.Conns.PerIP != 8 || s.MaxKeys != 5000 || len(s.Rates) != 1 || s.Rates[0].Burst != 4 ||
		*s.Detect.Enabled || s.Detect.Interval != 2*time.Second || s.Challenge.Difficulty != 12 || s.Evidence.SampleRate != 1 ||
		*s.Pressure.Enabled || s.Pressure.Share != 3 || s.Pressure.SchedLatency != 10*time.Millisecond {
		t.Errorf("Defaults changed set shield values: %+v", s)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}

func TestShieldValidateValid(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	if err := os.WriteFile(keys, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := validConfig()
	c.Shield = Shield{
		Mode: "off", TrustedProxies: []string{"10.0.0.0/8", "2001:db8::1"}, ProxyProtocol: true,
		Rates: []RateLimit{
			{Key: "fingerprint", Class: "*", Paths: []string{"/"}, Rate: 1e6},
			{Key: "prefix", Class: "", Rate: 0.01, Burst: 0},
		},
		Allow: []string{"192.0.2.1"}, BlockFiles: []string{keys},
		Detect: Detect{Interval: 100 * time.Millisecond, Baseline: 100 * time.Millisecond,
			BaselineFile: filepath.Join(dir, "baseline.bin"), BaselineEvery: time.Second, BaselineMaxAge: 7 * 24 * time.Hour},
		Challenge: Challenge{Difficulty: 32, MaxDifficulty: 32, KeyFile: keys, TokenKeyFile: keys},
		Evidence:  Evidence{Dir: dir, MaxBytes: 1 << 20, SampleRate: 1},
	}
	c.Defaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestShieldValidateInvalid(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	rates := func(r ...RateLimit) func(c *Config) { return func(c *Config) { c.Shield.Rates = r } }
	tests := []struct {
		name   string
		mutate func(c *Config)
		want   []string // substrings of one error line: key, value, what is valid
	}{
		{"mode", func(c *Config) { c.Shield.Mode = "enforce" }, []string{`shield.mode: "enforce": want "on", "shadow" or "off"`}},
		{"trusted proxy garbage", func(c *Config) { c.Shield.TrustedProxies = []string{"10.0.0.0/8", "lb.internal"} }, []string{`shield.trusted_proxies[1]: "lb.internal": want a CIDR such as 192.0.2.0/24`}},
		{"trusted proxy bits", func(c *Config) { c.Shield.TrustedProxies = []string{"10.0.0.0/33"} }, []string{`shield.trusted_proxies[0]: "10.0.0.0/33"`}},
		{"trusted proxy zone", func(c *Config) { c.Shield.TrustedProxies = []string{"fe80::1%eth0"} }, []string{`shield.trusted_proxies[0]: "fe80::1%eth0"`}},
		{"trusted proxy everyone", func(c *Config) { c.Shield.TrustedProxies = []string{"0.0.0.0/0"} }, []string{`shield.trusted_proxies[0]: "0.0.0.0/0": want a prefix longer than /0 (any client could choose`}},
		{"proxy protocol untrusted", func(c *Config) { c.Shield.ProxyProtocol = true }, []string{`shield.proxy_protocol: true: want false, or shield.trusted_proxies`}},
		{"allow empty", func(c *Config) { c.Shield.Allow = []string{""} }, []string{`shield.allow[0]: "": want a CIDR`}},
		{"allow everyone", func(c *Config) { c.Shield.Allow = []string{"::/0"} }, []string{`shield.allow[0]: "::/0": want a prefix longer than /0`, `shield.mode "off"`}},
		{"block file missing", func(c *Config) { c.Shield.BlockFiles = []string{missing} }, []string{`shield.block_files[0]: "` + missing + `": want a readable file of CIDRs (no such file`}},
		{"block file dir", func(c *Config) { c.Shield.BlockFiles = []string{dir} }, []string{`shield.block_files[0]: "` + dir + `"`, "is a directory"}},
		{"per ip over total", func(c *Config) { c.Shield.Conns.PerIP = 200000 }, []string{"shield.conns.per_ip: 200000: want an integer from 1 to 100000"}},
		{"per ip negative", func(c *Config) { c.Shield.Conns.PerIP = -1 }, []string{"shield.conns.per_ip: -1"}},
		{"total huge", func(c *Config) { c.Shield.Conns.Total = 20000000 }, []string{"shield.conns.total: 20000000: want an integer from 1 to 10000000"}},
		{"min rate negative", func(c *Config) { c.Shield.Conns.MinRate = -1 }, []string{"shield.conns.min_rate: -1B: want a size per second from 0B to 1GiB"}},
		{"min rate window", func(c *Config) { c.Shield.Conns.MinRateWindow = -time.Second }, []string{"shield.conns.min_rate_window: -1s: want a duration above 0s"}},
		{"request rate", func(c *Config) { c.Shield.Conns.RequestRate = -5 }, []string{"shield.conns.request_rate: -5: want requests per second above 0"}},
		{"request burst", func(c *Config) { c.Shield.Conns.RequestBurst = 2000000 }, []string{"shield.conns.request_burst: 2000000"}},
		{"rate key", rates(RateLimit{Key: "ip", Rate: 1}, RateLimit{Key: "ip", Rate: 1}, RateLimit{Key: "asn", Rate: 1}), []string{`shield.rates[2].key: "asn": want "ip", "prefix" or "fingerprint"`}},
		{"rate key empty", rates(RateLimit{Rate: 1}), []string{`shield.rates[0].key: ""`}},
		{"rate class", rates(RateLimit{Key: "ip", Class: "segments", Rate: 1}), []string{`shield.rates[0].class: "segments": want a class name, one of master_playlist`, `"*" for all`}},
		{"rate path", rates(RateLimit{Key: "ip", Paths: []string{"/ok", "api/login"}, Rate: 1}), []string{`shield.rates[0].paths[1]: "api/login": want a path prefix starting with "/"`}},
		{"rate zero", rates(RateLimit{Key: "ip"}), []string{"shield.rates[0].rate: 0: want requests per second above 0"}},
		{"rate huge", rates(RateLimit{Key: "ip", Rate: 2e6}), []string{"shield.rates[0].rate: 2e+06", "at most 1000000"}},
		{"rate burst", rates(RateLimit{Key: "ip", Rate: 1, Burst: -2}), []string{"shield.rates[0].burst: -2: want a number of requests ≥ 0"}},
		{"max keys small", func(c *Config) { c.Shield.MaxKeys = 10 }, []string{"shield.max_keys: 10: want an integer from 1000 to 100000000"}},
		{"pressure latency", func(c *Config) { c.Shield.Pressure.SchedLatency = 2 * time.Second }, []string{"shield.pressure.sched_latency: 2s: want a duration from 1ms to 1s"}},
		{"pressure share", func(c *Config) { c.Shield.Pressure.Share = 0.5 }, []string{"shield.pressure.share: 0.5: want a number from 1 to 100"}},
		{"max blocks", func(c *Config) { c.Shield.MaxBlocks = -1 }, []string{"shield.max_blocks: -1: want an integer from 1"}},
		{"detect interval", func(c *Config) { c.Shield.Detect.Interval = 10 * time.Millisecond }, []string{"shield.detect.interval: 10ms: want a duration from 100ms to 1m0s"}},
		{"detect baseline", func(c *Config) { c.Shield.Detect.Baseline = 500 * time.Millisecond }, []string{"shield.detect.baseline: 500ms: want a duration from shield.detect.interval (1s) to 24h"}},
		{"detect ttl", func(c *Config) { c.Shield.Detect.MitigationTTL = -time.Minute }, []string{"shield.detect.mitigation_ttl: -1m0s"}},
		{"detect budget", func(c *Config) { c.Shield.Detect.FalsePositiveBudget = 1.5 }, []string{"shield.detect.false_positive_budget: 1.5: want a fraction from 0 to 1"}},
		{"baseline every", func(c *Config) { c.Shield.Detect.BaselineEvery = 2 * time.Hour }, []string{"shield.detect.baseline_every: 2h0m0s: want a duration from 1s to 1h0m0s"}},
		{"baseline max age", func(c *Config) { c.Shield.Detect.BaselineMaxAge = time.Second }, []string{"shield.detect.baseline_max_age: 1s: want a duration from 1m0s to 168h0m0s"}},
		{"baseline file no dir", func(c *Config) { c.Shield.Detect.BaselineFile = missing + "/baseline.bin" }, []string{`shield.detect.baseline_file: "` + missing + `/baseline.bin": want a file in an existing directory`, "create it first"}},
		{"baseline file is dir", func(c *Config) { c.Shield.Detect.BaselineFile = dir }, []string{`shield.detect.baseline_file: "` + dir + `": want a file path, not a directory`}},
		{"challenge difficulty", func(c *Config) { c.Shield.Challenge.Difficulty = 33 }, []string{"shield.challenge.difficulty: 33: want an integer from 1 to 32"}},
		{"challenge max under", func(c *Config) { c.Shield.Challenge.MaxDifficulty = 8 }, []string{"shield.challenge.max_difficulty: 8: want bits from shield.challenge.difficulty (16) to 32"}},
		{"challenge max over", func(c *Config) { c.Shield.Challenge.MaxDifficulty = 40 }, []string{"shield.challenge.max_difficulty: 40"}},
		{"challenge ttl", func(c *Config) { c.Shield.Challenge.ClearanceTTL = -time.Hour }, []string{"shield.challenge.clearance_ttl: -1h0m0s"}},
		{"challenge key", func(c *Config) { c.Shield.Challenge.KeyFile = missing }, []string{`shield.challenge.key_file: "` + missing + `": want a readable key file`}},
		{"challenge token key", func(c *Config) { c.Shield.Challenge.TokenKeyFile = dir }, []string{`shield.challenge.token_key_file: "` + dir + `"`, "is a directory"}},
		{"evidence bytes", func(c *Config) { c.Shield.Evidence = Evidence{Dir: dir, MaxBytes: 4096} }, []string{"shield.evidence.max_bytes: 4KiB: want a size of at least 1MiB"}},
		{"evidence sample", func(c *Config) { c.Shield.Evidence.SampleRate = -0.5 }, []string{"shield.evidence.sample_rate: -0.5: want a fraction from 0 to 1"}},
		{"evidence per second", func(c *Config) { c.Shield.Evidence.PerSecond = -1 }, []string{"shield.evidence.per_second: -1: want an integer from 1 to 100000"}},
		{"evidence key in the log", func(c *Config) { c.Shield.Evidence = Evidence{Dir: dir, KeyFile: filepath.Join(dir, "sub", "k")} }, []string{`shield.evidence.key_file: "` + filepath.Join(dir, "sub", "k") + `": want a file outside shield.evidence.dir`}},
		{"evidence redact name", func(c *Config) { c.Shield.Evidence.Redact = []string{"X-Ok", "bad name"} }, []string{`shield.evidence.redact[1]: "bad name": want a header or query parameter name`}},
		{"evidence redact many", func(c *Config) { c.Shield.Evidence.Redact = make([]string, 65) }, []string{"shield.evidence.redact: 65: want at most 64 names"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.mutate(c)
			c.Defaults()
			err := c.Validate()
			if err == nil {
				t.Fatal("Validate: no error")
			}
			if !oneLineHasAll(err.Error(), tt.want) {
				t.Errorf("Validate error\n%v\nhas no line with all of %q", err, tt.want)
			}
		})
	}
}

// TestShieldParseErrors checks shield problems through Parse: lines, and
// values yaml accepts but Validate refuses (NaN).
func TestShieldParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"nan rate", "shield:\n  rates:\n    - {key: ip, rate: .nan}\n", []string{"line 3: shield.rates[0].rate: NaN: want requests per second"}},
		{"nan budget", "shield: {detect: {false_positive_budget: .nan}}\n", []string{"line 1: shield.detect.false_positive_budget: NaN"}},
		{"bad float", "shield: {evidence: {sample_rate: half}}\n", []string{`line 1: shield.evidence.sample_rate: "half": want a number`}},
		{"unknown key", "shield: {conns: {per_host: 1}}\n", []string{`unknown key "per_host" in shield.conns (valid keys: per_ip, total, min_rate, min_rate_window, request_rate, request_burst, reset_rate, reset_burst)`}},
		{"bad cidr line", "shield:\n  allow:\n    - 192.0.2.0/24\n    - 300.1.1.1\n", []string{`line 4: shield.allow[1]: "300.1.1.1"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml+minimalYAML), "rempart.yaml")
			if err == nil || !oneLineHasAll(err.Error(), tt.want) {
				t.Errorf("Parse error\n%v\nhas no line with all of %q", err, tt.want)
			}
		})
	}
}

func TestExampleShield(t *testing.T) {
	c, err := Load(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	s := c.Shield
	if s.Mode != "on" || len(s.Allow) != 1 || s.Allow[0] != "192.0.2.0/24" || len(s.TrustedProxies) != 0 {
		t.Errorf("example shield = %+v", s)
	}
	var strict bool
	for _, r := range s.Rates {
		strict = strict || strings.Join(r.Paths, ",") == "/api/login,/api/search"
	}
	if !strict {
		t.Errorf("example has no strict login/search rate: %+v", s.Rates)
	}
}
