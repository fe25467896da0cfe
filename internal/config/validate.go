package config

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
)

// Validate reports every problem in c, joined with errors.Join; each is an
// *Error naming the key, the bad value and what would be valid. Run
// Defaults first: Validate reports zero values that Defaults would fill.
// It reads nothing but the files named (TLS, block lists, challenge keys),
// which it opens to check that they are readable.
func (c *Config) Validate() error {
	return joinErrors("", c.validate())
}

// validator collects problems.
type validator struct{ errs []*Error }

// add records a problem with key; msg says what is wrong and what is valid.
func (v *validator) add(key, msg string) {
	v.errs = append(v.errs, &Error{Key: key, Msg: msg})
}

// bad records that key holds val where want would be valid.
func (v *validator) bad(key string, val any, want string) {
	v.add(key, fmt.Sprintf("%s: want %s", quote(val), want))
}

func quote(val any) string {
	switch val := val.(type) {
	case string:
		return strconv.Quote(val)
	case []string:
		return fmt.Sprintf("%q", val)
	}
	return fmt.Sprint(val)
}

// duration checks 0 < d ≤ hi: zero is refused, as Defaults fills it.
func (v *validator) duration(key string, d, hi time.Duration) {
	if d <= 0 || d > hi {
		v.bad(key, d, fmt.Sprintf("a duration above 0s and at most %s", hi))
	}
}

func (v *validator) between(key string, n, lo, hi int) {
	if n < lo || n > hi {
		v.bad(key, n, fmt.Sprintf("an integer from %d to %d", lo, hi))
	}
}

func (c *Config) validate() []*Error {
	v := &validator{}
	v.listen("listen", c.Listen)
	c.validateTLS(v)
	if c.Admin.Listen != "off" {
		v.listen("admin.listen", c.Admin.Listen)
		if c.Admin.Listen == c.Listen && !strings.HasSuffix(c.Listen, ":0") {
			v.bad("admin.listen", c.Admin.Listen, "an address other than listen's, or \"off\"")
		}
	}
	c.Limits.validate(v)
	c.Cache.validate(v)
	c.Shield.validate(v)
	c.validateSites(v)
	return v.errs
}

// listen checks a listener address.
func (v *validator) listen(key, addr string) {
	want := "host:port with a numeric port 0-65535, such as 127.0.0.1:8080 or :8080"
	if key == "admin.listen" {
		want += `, or "off"`
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || !validPort(port) {
		v.bad(key, addr, want)
		return
	}
	if _, err := netip.ParseAddr(host); host != "" && err != nil && !isDNSName(strings.ToLower(host)) {
		v.bad(key, addr, want+" (the host is an IP address, a name, or empty for all interfaces)")
	}
}

func validPort(p string) bool {
	n, err := strconv.ParseUint(p, 10, 16)
	return err == nil && n <= 65535 && p != "" && p[0] != '+'
}

// isDNSName reports whether h is a lower-case host name: dot-separated
// labels of a-z 0-9 - _, 1 to 63 bytes each, 253 bytes at most.
func isDNSName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

func (c *Config) validateTLS(v *validator) {
	cert, key := c.TLS.CertFile, c.TLS.KeyFile
	switch {
	case cert == "" && key == "":
	case cert == "" || key == "":
		v.add("tls", fmt.Sprintf("cert_file %q and key_file %q: want both set (HTTPS) or both empty (plain HTTP)", cert, key))
	default:
		v.readable("tls.cert_file", cert, "PEM file")
		v.readable("tls.key_file", key, "PEM file")
	}
}

// readable checks that the file at path can be opened for reading; what
// names the kind of file wanted.
func (v *validator) readable(key, path, what string) {
	f, err := os.Open(path)
	if err == nil {
		var st os.FileInfo
		st, err = f.Stat()
		f.Close()
		if err == nil && st.IsDir() {
			err = errors.New("is a directory")
		}
	}
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		v.bad(key, path, fmt.Sprintf("a readable %s (%v)", what, err))
	}
}

func (l *Limits) validate(v *validator) {
	v.duration("limits.read_header_timeout", l.ReadHeaderTimeout, time.Minute)
	v.duration("limits.read_timeout", l.ReadTimeout, 10*time.Minute)
	if l.ReadHeaderTimeout > l.ReadTimeout && l.ReadTimeout > 0 {
		v.bad("limits.read_header_timeout", l.ReadHeaderTimeout, fmt.Sprintf("at most limits.read_timeout (%s)", l.ReadTimeout))
	}
	v.duration("limits.write_timeout", l.WriteTimeout, time.Hour)
	v.duration("limits.idle_timeout", l.IdleTimeout, time.Hour)
	v.between("limits.max_header_bytes", l.MaxHeaderBytes, 1<<10, 1<<20)
	v.duration("limits.shutdown_timeout", l.ShutdownTimeout, 10*time.Minute)
}

func (c *Cache) validate(v *validator) {
	const lo, hi = ByteSize(1 << 20), ByteSize(1 << 40)
	if c.MaxBytes < lo || c.MaxBytes > hi {
		v.bad("cache.max_bytes", c.MaxBytes, fmt.Sprintf("a size from %s to %s", lo, hi))
	}
	if c.MaxObjectBytes < 1 || c.MaxObjectBytes > c.MaxBytes {
		v.bad("cache.max_object_bytes", c.MaxObjectBytes, fmt.Sprintf("a size from 1B to cache.max_bytes (%s)", c.MaxBytes))
	}
	v.duration("cache.wait_timeout", c.WaitTimeout, 5*time.Minute)
}

var siteName = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)

func (c *Config) validateSites(v *validator) {
	if len(c.Sites) == 0 {
		v.add("sites", "none given: want at least one site with a name, hosts and origins")
		return
	}
	names := map[string]string{} // site name → key of its first use
	hosts := map[string]string{} // host → key of its first use
	for i := range c.Sites {
		s := &c.Sites[i]
		key := fmt.Sprintf("sites[%d]", i)
		switch first, dup := names[s.Name]; {
		case !siteName.MatchString(s.Name):
			v.bad(key+".name", s.Name, "1 to 32 characters of a-z 0-9 _ -")
		case dup:
			v.bad(key+".name", s.Name, "a name not already used by "+first)
		default:
			names[s.Name] = key + ".name"
		}
		s.validateHosts(v, key, hosts)
		s.validateOrigins(v, key)
		s.Upstream.validate(v, key+".upstream")
		s.validateRoutes(v, key)
		s.validateClasses(v, key)
		s.Admission.validate(v, key+".admission")
		s.Streams.validate(v, key+".streams")
		validateSharedHeaders(v, key+".shared_headers", s.SharedHeaders)
	}
}

// validateHosts checks s.Hosts; seen maps each host to the key of its first
// use, across sites.
func (s *Site) validateHosts(v *validator, key string, seen map[string]string) {
	if len(s.Hosts) == 0 {
		v.add(key+".hosts", `none given: want at least one host name, or "*" for every Host`)
	}
	for j, h := range s.Hosts {
		hk := fmt.Sprintf("%s.hosts[%d]", key, j)
		first, dup := seen[h]
		switch {
		case h != strings.ToLower(h):
			v.bad(hk, h, "a lower-case host name (Defaults lowercases hosts)")
		case h != "*" && !isDNSName(h) && !isIP(h):
			v.bad(hk, h, `a host name or IP address without port or trailing dot, such as live.example.com, or "*"`)
		case dup && h == "*":
			v.bad(hk, h, `at most one "*" in all sites: `+first+` already makes its site the default`)
		case dup:
			v.bad(hk, h, "a host not already served by "+first)
		default:
			seen[h] = hk
		}
	}
}

func isIP(h string) bool {
	a, err := netip.ParseAddr(h)
	return err == nil && a.Zone() == "" && a.String() == h
}

func (s *Site) validateOrigins(v *validator, key string) {
	if len(s.Origins) == 0 {
		v.add(key+".origins", "none given: want at least one origin url")
	}
	for j, o := range s.Origins {
		u, err := url.Parse(o.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" ||
			u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Opaque != "" {
			v.bad(fmt.Sprintf("%s.origins[%d].url", key, j), o.URL,
				"an http:// or https:// URL with a host, no query, fragment or user info, such as http://origin.internal:8080")
		}
	}
}

func (u *Upstream) validate(v *validator, key string) {
	v.duration(key+".connect_timeout", u.ConnectTimeout, time.Minute)
	v.duration(key+".response_header_timeout", u.ResponseHeaderTimeout, 10*time.Minute)
	v.duration(key+".fetch_timeout", u.FetchTimeout, time.Hour)
	if u.ResponseHeaderTimeout > u.FetchTimeout && u.FetchTimeout > 0 {
		v.bad(key+".response_header_timeout", u.ResponseHeaderTimeout, fmt.Sprintf("at most fetch_timeout (%s)", u.FetchTimeout))
	}
	v.between(key+".max_concurrency", u.MaxConcurrency, 1, 100000)
	v.duration(key+".queue_timeout", u.QueueTimeout, time.Minute)
	v.between(key+".max_idle_conns", u.MaxIdleConns, 1, 100000)
	if u.Retries != nil {
		v.between(key+".retries", *u.Retries, 0, 5)
	}
	v.between(key+".breaker_failures", u.BreakerFailures, 1, 1000)
	v.duration(key+".breaker_cooldown", u.BreakerCooldown, 10*time.Minute)
	if u.Adaptive.Enabled {
		u.Adaptive.validate(v, key+".adaptive", u.MaxConcurrency)
	}
	if !(u.UnknownShare > 0 && u.UnknownShare <= 1) {
		v.bad(key+".unknown_share", u.UnknownShare, "a fraction of the slots above 0, at most 1, such as 0.25")
	}
}

func (s *Site) validateRoutes(v *validator, key string) {
	for j, r := range s.Routes {
		rk := fmt.Sprintf("%s.routes[%d]", key, j)
		if _, err := telemetry.ParseClass(r.Class); err != nil {
			v.bad(rk+".class", r.Class, "a class name, one of "+strings.Join(telemetry.ClassNames(), ", "))
		}
		if r.Prefix != "" && !strings.HasPrefix(r.Prefix, "/") {
			v.bad(rk+".prefix", r.Prefix, `a path starting with "/", such as /vod/`)
		}
		if r.Prefix == "" && r.Suffix == "" {
			v.add(rk, "neither prefix nor suffix: want at least one, or the route matches every request")
		}
	}
}

// maxPolicyDuration bounds the class policy durations: a year is far past
// any useful freshness, and keeps now+d from overflowing.
const maxPolicyDuration = 365 * 24 * time.Hour

func (s *Site) validateClasses(v *validator, key string) {
	for _, name := range slices.Sorted(maps.Keys(s.Classes)) {
		ck := key + ".classes." + name
		if _, err := telemetry.ParseClass(name); err != nil {
			v.add(ck, "unknown class: want one of "+strings.Join(telemetry.ClassNames(), ", "))
			continue
		}
		s.Classes[name].validate(v, ck)
	}
}

func (p ClassPolicy) validate(v *validator, key string) {
	for _, d := range []struct {
		name string
		d    *time.Duration
	}{
		{"ttl", p.TTL}, {"max_ttl", p.MaxTTL}, {"stale_while_revalidate", p.StaleWhileRevalidate},
		{"stale_if_error", p.StaleIfError}, {"negative_ttl", p.NegativeTTL},
	} {
		if d.d != nil && (*d.d < 0 || *d.d > maxPolicyDuration) {
			v.bad(key+"."+d.name, *d.d, fmt.Sprintf("a duration from 0s to %s (a year)", maxPolicyDuration))
		}
	}
	if slices.Contains(p.QueryKeep, "*") && len(p.QueryKeep) > 1 {
		v.bad(key+".query_keep", p.QueryKeep, `"*" alone (it keeps the whole query), or a list of parameter names`)
	}
	for i, q := range p.QueryKeep {
		if q == "" || strings.ContainsAny(q, "&=#? \t\r\n") {
			v.bad(fmt.Sprintf("%s.query_keep[%d]", key, i), q, `a query parameter name such as "token", or "*"`)
		}
	}
}
