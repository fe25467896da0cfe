package config

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// validConfig returns a valid, defaulted configuration with two sites.
func validConfig() *Config {
	c := &Config{Sites: []Site{
		{Name: "live", Hosts: []string{"live.example.com"}, Origins: []Origin{{URL: "http://o1:8080"}, {URL: "https://o2"}}},
		{Name: "api", Hosts: []string{"*"}, Origins: []Origin{{URL: "http://api"}}},
	}}
	c.Defaults()
	return c
}

func ptr[T any](v T) *T { return &v }

func TestValidateValid(t *testing.T) {
	if err := validConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateInvalid(t *testing.T) {
	dir := t.TempDir()
	pem := filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(pem, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	s0 := func(c *Config) *Site { return &c.Sites[0] }
	tests := []struct {
		name   string
		mutate func(c *Config)
		want   []string // substrings of one error line: key, value, what is valid
	}{
		{"listen no port", func(c *Config) { c.Listen = "localhost" }, []string{`listen: "localhost": want host:port`}},
		{"listen port range", func(c *Config) { c.Listen = ":65536" }, []string{`listen: ":65536"`, "0-65535"}},
		{"listen port name", func(c *Config) { c.Listen = ":http" }, []string{`listen: ":http"`}},
		{"listen bad host", func(c *Config) { c.Listen = "a b:80" }, []string{`listen: "a b:80"`}},
		{"admin listen", func(c *Config) { c.Admin.Listen = "9090" }, []string{`admin.listen: "9090"`, `or "off"`}},
		{"admin same as listen", func(c *Config) { c.Admin.Listen = c.Listen }, []string{`admin.listen: "127.0.0.1:8080"`, "other than listen"}},
		{"tls half", func(c *Config) { c.TLS.CertFile = pem }, []string{"tls: cert_file", "want both set"}},
		{"tls unreadable", func(c *Config) { c.TLS = TLS{pem, filepath.Join(dir, "nope.pem")} }, []string{`tls.key_file: "` + dir, "no such file"}},
		{"tls directory", func(c *Config) { c.TLS = TLS{dir, pem} }, []string{`tls.cert_file: "` + dir, "is a directory"}},
		{"read header timeout negative", func(c *Config) { c.Limits.ReadHeaderTimeout = -time.Second }, []string{"limits.read_header_timeout: -1s: want a duration above 0s"}},
		{"read header over read", func(c *Config) { c.Limits.ReadHeaderTimeout = 50 * time.Second }, []string{"limits.read_header_timeout: 50s: want at most limits.read_timeout (30s)"}},
		{"read timeout huge", func(c *Config) { c.Limits.ReadTimeout = time.Hour }, []string{"limits.read_timeout: 1h0m0s", "at most 10m0s"}},
		{"write timeout", func(c *Config) { c.Limits.WriteTimeout = 2 * time.Hour }, []string{"limits.write_timeout: 2h0m0s"}},
		{"idle timeout", func(c *Config) { c.Limits.IdleTimeout = -1 }, []string{"limits.idle_timeout: -1ns"}},
		{"shutdown timeout", func(c *Config) { c.Limits.ShutdownTimeout = time.Hour }, []string{"limits.shutdown_timeout: 1h0m0s"}},
		{"max header small", func(c *Config) { c.Limits.MaxHeaderBytes = 100 }, []string{"limits.max_header_bytes: 100: want an integer from 1024 to 1048576"}},
		{"max header big", func(c *Config) { c.Limits.MaxHeaderBytes = 2 << 20 }, []string{"limits.max_header_bytes: 2097152"}},
		{"cache small", func(c *Config) { c.Cache.MaxBytes = 1000 }, []string{"cache.max_bytes: 1000B: want a size from 1MiB to 1TiB"}},
		{"object over cache", func(c *Config) { c.Cache.MaxObjectBytes = 512 << 20 }, []string{"cache.max_object_bytes: 512MiB: want a size from 1B to cache.max_bytes (256MiB)"}},
		{"object negative", func(c *Config) { c.Cache.MaxObjectBytes = -1 }, []string{"cache.max_object_bytes: -1B"}},
		{"wait timeout", func(c *Config) { c.Cache.WaitTimeout = -time.Second }, []string{"cache.wait_timeout: -1s"}},
		{"no sites", func(c *Config) { c.Sites = nil }, []string{"sites: none given"}},
		{"site name empty", func(c *Config) { s0(c).Name = "" }, []string{`sites[0].name: "": want 1 to 32 characters of a-z 0-9 _ -`}},
		{"site name upper", func(c *Config) { s0(c).Name = "Live" }, []string{`sites[0].name: "Live"`}},
		{"site name long", func(c *Config) { s0(c).Name = strings.Repeat("a", 33) }, []string{`sites[0].name: "aaaa`}},
		{"site name dup", func(c *Config) { c.Sites[1].Name = "live" }, []string{`sites[1].name: "live": want a name not already used by sites[0].name`}},
		{"hosts empty", func(c *Config) { s0(c).Hosts = nil }, []string{"sites[0].hosts: none given"}},
		{"host upper", func(c *Config) { s0(c).Hosts = []string{"Live.example.com"} }, []string{`sites[0].hosts[0]: "Live.example.com": want a lower-case host name`}},
		{"host port", func(c *Config) { s0(c).Hosts = []string{"live.example.com:443"} }, []string{`sites[0].hosts[0]: "live.example.com:443": want a host name or IP address without port`}},
		{"host empty", func(c *Config) { s0(c).Hosts = []string{""} }, []string{`sites[0].hosts[0]: ""`}},
		{"host wildcard", func(c *Config) { s0(c).Hosts = []string{"*.example.com"} }, []string{`sites[0].hosts[0]: "*.example.com"`}},
		{"host dup across sites", func(c *Config) { c.Sites[1].Hosts = []string{"live.example.com"} }, []string{`sites[1].hosts[0]: "live.example.com": want a host not already served by sites[0].hosts[0]`}},
		{"host dup in site", func(c *Config) { s0(c).Hosts = []string{"a.com", "a.com"} }, []string{`sites[0].hosts[1]: "a.com"`}},
		{"two stars", func(c *Config) { s0(c).Hosts = []string{"*"} }, []string{`sites[1].hosts[0]: "*": want at most one "*" in all sites: sites[0].hosts[0]`}},
		{"origins empty", func(c *Config) { s0(c).Origins = nil }, []string{"sites[0].origins: none given"}},
		{"origin ftp", func(c *Config) { s0(c).Origins[1].URL = "ftp://x" }, []string{`sites[0].origins[1].url: "ftp://x": want an http:// or https:// URL with a host, no query`}},
		{"origin no host", func(c *Config) { s0(c).Origins[0].URL = "http:///path" }, []string{`sites[0].origins[0].url: "http:///path"`}},
		{"origin relative", func(c *Config) { s0(c).Origins[0].URL = "origin:8080" }, []string{`sites[0].origins[0].url: "origin:8080"`}},
		{"origin query", func(c *Config) { s0(c).Origins[0].URL = "http://o/?a=1" }, []string{`sites[0].origins[0].url: "http://o/?a=1"`}},
		{"origin fragment", func(c *Config) { s0(c).Origins[0].URL = "http://o/#x" }, []string{`sites[0].origins[0].url: "http://o/#x"`}},
		{"origin user", func(c *Config) { s0(c).Origins[0].URL = "http://u:p@o/" }, []string{`sites[0].origins[0].url: "http://u:p@o/"`}},
		{"origin empty", func(c *Config) { s0(c).Origins[0].URL = "" }, []string{`sites[0].origins[0].url: ""`}},
		{"connect timeout", func(c *Config) { s0(c).Upstream.ConnectTimeout = -1 }, []string{"sites[0].upstream.connect_timeout: -1ns"}},
		{"response header over fetch", func(c *Config) { s0(c).Upstream.ResponseHeaderTimeout = time.Minute }, []string{"sites[0].upstream.response_header_timeout: 1m0s: want at most fetch_timeout (30s)"}},
		{"fetch timeout", func(c *Config) { s0(c).Upstream.FetchTimeout = 2 * time.Hour }, []string{"sites[0].upstream.fetch_timeout: 2h0m0s"}},
		{"max concurrency", func(c *Config) { s0(c).Upstream.MaxConcurrency = 100001 }, []string{"sites[0].upstream.max_concurrency: 100001: want an integer from 1 to 100000"}},
		{"queue timeout", func(c *Config) { s0(c).Upstream.QueueTimeout = time.Hour }, []string{"sites[0].upstream.queue_timeout: 1h0m0s"}},
		{"idle conns", func(c *Config) { s0(c).Upstream.MaxIdleConns = -3 }, []string{"sites[0].upstream.max_idle_conns: -3"}},
		{"retries", func(c *Config) { s0(c).Upstream.Retries = ptr(6) }, []string{"sites[0].upstream.retries: 6: want an integer from 0 to 5"}},
		{"retries negative", func(c *Config) { s0(c).Upstream.Retries = ptr(-1) }, []string{"sites[0].upstream.retries: -1"}},
		{"breaker failures", func(c *Config) { s0(c).Upstream.BreakerFailures = 0 - 1 }, []string{"sites[0].upstream.breaker_failures: -1"}},
		{"breaker cooldown", func(c *Config) { s0(c).Upstream.BreakerCooldown = time.Hour }, []string{"sites[0].upstream.breaker_cooldown: 1h0m0s"}},
		{"unknown share zero", func(c *Config) { s0(c).Upstream.UnknownShare = -0.1 }, []string{"sites[0].upstream.unknown_share: -0.1: want a fraction of the slots above 0, at most 1"}},
		{"unknown share over 1", func(c *Config) { s0(c).Upstream.UnknownShare = 1.5 }, []string{"sites[0].upstream.unknown_share: 1.5"}},
		{"unknown share NaN", func(c *Config) { s0(c).Upstream.UnknownShare = math.NaN() }, []string{"sites[0].upstream.unknown_share: NaN"}},
		{"route class", func(c *Config) { s0(c).Routes = []Route{{Prefix: "/a", Class: "segments"}} }, []string{`sites[0].routes[0].class: "segments": want a class name, one of master_playlist, media_playlist, segment, ondemand, api`}},
		{"route class unknown", func(c *Config) { s0(c).Routes = []Route{{Prefix: "/a", Class: "unknown"}} }, []string{`sites[0].routes[0].class: "unknown"`}},
		{"route prefix", func(c *Config) { s0(c).Routes = []Route{{Prefix: "vod/", Class: "ondemand"}} }, []string{`sites[0].routes[0].prefix: "vod/": want a path starting with "/"`}},
		{"route no matcher", func(c *Config) { s0(c).Routes = []Route{{Class: "api"}} }, []string{"sites[0].routes[0]: neither prefix nor suffix"}},
		{"class key", func(c *Config) { s0(c).Classes = map[string]ClassPolicy{"segments": {}} }, []string{"sites[0].classes.segments: unknown class: want one of master_playlist"}},
		{"class ttl negative", func(c *Config) { s0(c).Classes = map[string]ClassPolicy{"segment": {TTL: ptr(-time.Second)}} }, []string{"sites[0].classes.segment.ttl: -1s: want a duration from 0s"}},
		{"class max ttl huge", func(c *Config) { s0(c).Classes = map[string]ClassPolicy{"api": {MaxTTL: ptr(9000 * time.Hour)}} }, []string{"sites[0].classes.api.max_ttl: 9000h0m0s"}},
		{"class swr", func(c *Config) {
			s0(c).Classes = map[string]ClassPolicy{"api": {StaleWhileRevalidate: ptr(-time.Second)}}
		}, []string{"sites[0].classes.api.stale_while_revalidate: -1s"}},
		{"class sie", func(c *Config) { s0(c).Classes = map[string]ClassPolicy{"api": {StaleIfError: ptr(-time.Second)}} }, []string{"sites[0].classes.api.stale_if_error: -1s"}},
		{"class neg", func(c *Config) { s0(c).Classes = map[string]ClassPolicy{"api": {NegativeTTL: ptr(-time.Second)}} }, []string{"sites[0].classes.api.negative_ttl: -1s"}},
		{"query keep empty", func(c *Config) { s0(c).Classes = map[string]ClassPolicy{"api": {QueryKeep: []string{"a", ""}}} }, []string{`sites[0].classes.api.query_keep[1]: "": want a query parameter name`}},
		{"query keep amp", func(c *Config) { s0(c).Classes = map[string]ClassPolicy{"api": {QueryKeep: []string{"a=b"}}} }, []string{`sites[0].classes.api.query_keep[0]: "a=b"`}},
		{"query keep star", func(c *Config) { s0(c).Classes = map[string]ClassPolicy{"api": {QueryKeep: []string{"*", "id"}}} }, []string{`sites[0].classes.api.query_keep: ["*" "id"]: want "*" alone`}},
		{"shared header credentials", func(c *Config) { s0(c).SharedHeaders = []string{"Accept", "cookie"} },
			[]string{`sites[0].shared_headers[1]: "cookie": want a header a shared fetch may carry, not Cookie (credentials`}},
		{"shared header override", func(c *Config) { s0(c).SharedHeaders = []string{"X-HTTP-Method-Override"} },
			[]string{`sites[0].shared_headers[0]: "X-HTTP-Method-Override"`, "a method override"}},
		{"shared header range", func(c *Config) { s0(c).SharedHeaders = []string{"Range"} }, []string{`sites[0].shared_headers[0]: "Range"`, "answers ranges itself"}},
		{"shared header proxy", func(c *Config) { s0(c).SharedHeaders = []string{"Proxy-Foo"} }, []string{`sites[0].shared_headers[0]: "Proxy-Foo"`, "hop-by-hop"}},
		{"shared header name", func(c *Config) { s0(c).SharedHeaders = []string{"Accept Language"} }, []string{`sites[0].shared_headers[0]: "Accept Language": want a header name`}},
		{"shared header dup", func(c *Config) { s0(c).SharedHeaders = []string{"Accept", "accept"} }, []string{`sites[0].shared_headers[1]: "accept": want a header not already listed`}},
		{"shared headers many", func(c *Config) { s0(c).SharedHeaders = strings.Split("a b c d e f g h i j k l m n o p q", " ") },
			[]string{"sites[0].shared_headers: 17: want at most 16 header names"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.mutate(c)
			err := c.Validate()
			if err == nil {
				t.Fatal("Validate: no error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(err, ErrInvalid) = false for %v", err)
			}
			if !oneLineHasAll(err.Error(), tt.want) {
				t.Errorf("Validate error\n%v\nhas no line with all of %q", err, tt.want)
			}
		})
	}
}

// oneLineHasAll reports whether one line of msg contains every string in want.
func oneLineHasAll(msg string, want []string) bool {
	for line := range strings.SplitSeq(msg, "\n") {
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(line, w)
		}
		if ok {
			return true
		}
	}
	return false
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := validConfig()
	c.Listen = "x"
	c.Cache.MaxBytes = 1
	c.Sites[0].Name = "BAD"
	c.Sites[1].Origins[0].URL = "ftp://x"
	err := c.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, key := range []string{"listen:", "cache.max_bytes:", "sites[0].name:", "sites[1].origins[0].url:"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error lacks %s:\n%v", key, err)
		}
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != 5 { // max_object_bytes > max_bytes too
		t.Errorf("got %d problems, want 5:\n%v", n, err)
	}
}

func TestValidateListenValid(t *testing.T) {
	for _, addr := range []string{":8080", "0.0.0.0:0", "[::1]:443", "localhost:65535", "edge-1.internal:80"} {
		c := validConfig()
		c.Listen = addr
		if err := c.Validate(); err != nil {
			t.Errorf("listen %q: %v", addr, err)
		}
	}
	c := validConfig()
	c.Admin.Listen = "off"
	if err := c.Validate(); err != nil {
		t.Errorf(`admin.listen "off": %v`, err)
	}
}
