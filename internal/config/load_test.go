package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const minimalYAML = `
sites:
  - name: live
    hosts: [Live.Example.com]
    origins:
      - url: http://origin:8080
`

func TestParseMinimal(t *testing.T) {
	c, err := Parse([]byte(minimalYAML), "rempart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Sites[0].Hosts[0]; got != "live.example.com" {
		t.Errorf("host = %q, want it lowercased", got)
	}
	if c.Listen != "127.0.0.1:8080" || *c.Sites[0].Upstream.Retries != 1 {
		t.Errorf("defaults not filled: listen %q retries %d", c.Listen, *c.Sites[0].Upstream.Retries)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // substrings of one error line
	}{
		{"empty", "", []string{"rempart.yaml: the file is empty"}},
		{"comments only", "# nothing\n", []string{"rempart.yaml: the file is empty"}},
		{"syntax", "listen: [\n", []string{"rempart.yaml: line 1: did not find expected node content"}},
		{"two documents", minimalYAML + "---\nlisten: :1\n", []string{"rempart.yaml: line 7: a second YAML document"}},
		{"top level list", "- a\n", []string{"rempart.yaml: line 1: ", "a list: want a mapping with keys listen, tls, h2c, admin, limits, cache, shield, sites"}},
		{"unknown top key", "lisen: :80\n" + minimalYAML, []string{`rempart.yaml: line 1: unknown key "lisen" at the top level (valid keys: listen, tls,`}},
		{"unknown site key", minimalYAML + "    foo: 1\n", []string{`rempart.yaml: line 7: unknown key "foo" in sites[0] (valid keys: name, hosts, origins, upstream, routes, classes, admission, streams, unknown_gate, shared_headers)`}},
		{"unknown nested key", minimalYAML + "    upstream: {retry: 2}\n", []string{`line 7: unknown key "retry" in sites[0].upstream (valid keys: connect_timeout,`}},
		{"unknown class field", minimalYAML + "    classes: {segment: {tl: 1s}}\n", []string{`line 7: unknown key "tl" in sites[0].classes.segment`}},
		{"bad duration", "limits: {read_timeout: abc}\n" + minimalYAML, []string{`rempart.yaml: line 1: limits.read_timeout: "abc": want a duration such as 5s`}},
		{"int duration", "cache:\n  wait_timeout: 5\n" + minimalYAML, []string{`line 2: cache.wait_timeout: "5": want a duration`, "zero is 0s"}},
		{"bad size", "cache: {max_bytes: 12XB}\n" + minimalYAML, []string{`line 1: cache.max_bytes: "12XB": want a size such as 256MiB`}},
		{"bad int", minimalYAML + "    upstream: {max_concurrency: lots}\n", []string{`line 7: sites[0].upstream.max_concurrency: "lots": want an integer`}},
		{"bad bool", "h2c: maybe\n" + minimalYAML, []string{`line 1: h2c: "maybe": want true or false`}},
		{"map for string", "listen: {a: 1}\n" + minimalYAML, []string{`line 1: listen: a mapping: want a string`}},
		{"scalar for list", "sites: live\n", []string{`line 1: sites: "live": want a list`}},
		{"duplicate key", "listen: :1\nlisten: :2\n" + minimalYAML, []string{"line 2: listen: given twice (first at line 1)"}},
		{"several problems", "h2c: 3\nlimits: {idle_timeout: x}\n", []string{`h2c: "3"`}},
		{"validation with line", minimalYAML + "      - url: ftp://x\n", []string{`rempart.yaml: line 7: sites[0].origins[1].url: "ftp://x": want an http:// or https:// URL with a host`}},
		{"validation on a flow key", "cache: {max_object_bytes: 1GiB}\n" + minimalYAML, []string{"rempart.yaml: line 1: cache.max_object_bytes: 1GiB: want a size from 1B to cache.max_bytes (256MiB)"}},
		{"missing sites", "listen: :80\n", []string{"rempart.yaml: sites: none given"}},
		{"anchor in unknown key", "x: &a 1\n" + minimalYAML, []string{`unknown key "x"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml), "rempart.yaml")
			if err == nil {
				t.Fatalf("Parse: no error, config %+v", c)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(err, ErrInvalid) = false for %v", err)
			}
			if !oneLineHasAll(err.Error(), tt.want) {
				t.Errorf("Parse error\n%v\nhas no line with all of %q", err, tt.want)
			}
		})
	}
}

func TestParseReportsAllDecodeProblems(t *testing.T) {
	_, err := Parse([]byte("h2c: 3\nlimits: {idle_timeout: x}\nfoo: 1\n"), "f.yaml")
	for _, want := range []string{"line 1: h2c:", "line 2: limits.idle_timeout:", `line 3: unknown key "foo"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestParseAnchorsAndMerge(t *testing.T) {
	data := `
x-upstream: &up {fetch_timeout: 7s, retries: 0}
sites:
  - name: a
    hosts: [a.example.com]
    origins: [{url: "http://a"}]
    upstream: *up
  - name: b
    hosts: [b.example.com]
    origins: [{url: "http://b"}]
    upstream:
      <<: *up
      retries: 2
`
	_, err := Parse([]byte(data), "f.yaml")
	if err == nil || !strings.Contains(err.Error(), `unknown key "x-upstream"`) {
		t.Fatalf("want the unknown x-upstream key reported, got %v", err)
	}
	data = strings.Replace(data, "x-upstream: &up {fetch_timeout: 7s, retries: 0}\n", "", 1)
	data = strings.Replace(data, "upstream: *up", "upstream: &up {fetch_timeout: 7s, retries: 0}", 1)
	c, err := Parse([]byte(data), "f.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if u := c.Sites[1].Upstream; u.FetchTimeout != 7*time.Second || *u.Retries != 2 {
		t.Errorf("merged upstream = %+v, want fetch_timeout 7s and retries 2", u)
	}
}

func TestParseAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 12; i++ {
		b.WriteString("a" + itoa(i) + ": &a" + itoa(i) + " [")
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + itoa(i-1))
		}
		b.WriteString("]\n")
	}
	done := make(chan error, 1)
	go func() { _, err := Parse([]byte(b.String()), "bomb.yaml"); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("no error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Parse did not return: alias expansion is unbounded")
	}
}

func itoa(i int) string { return string(rune('0'+i/10)) + string(rune('0'+i%10)) }

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(good, []byte(minimalYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(big, []byte(minimalYAML+"#"+strings.Repeat("x", MaxFileBytes)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(good); err != nil {
		t.Errorf("Load(good): %v", err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), big+": larger than 1 MiB") {
		t.Errorf("Load(big) = %v, want larger than 1 MiB", err)
	}
	_, err := Load(filepath.Join(dir, "missing.yaml"))
	if !errors.Is(err, os.ErrNotExist) || errors.Is(err, ErrInvalid) {
		t.Errorf("Load(missing) = %v, want ErrNotExist", err)
	}
}

func TestQuick(t *testing.T) {
	c, err := Quick(":8080", "http://127.0.0.1:9000")
	if err != nil {
		t.Fatal(err)
	}
	s := c.Sites[0]
	if c.Listen != ":8080" || s.Name != "default" || len(s.Hosts) != 1 || s.Hosts[0] != "*" ||
		len(s.Origins) != 1 || s.Origins[0].URL != "http://127.0.0.1:9000" {
		t.Errorf("Quick = %+v", c)
	}
	if c.Cache.MaxBytes != 256<<20 || c.Admin.Listen != "127.0.0.1:9090" {
		t.Errorf("Quick did not fill defaults: %+v", c)
	}
	if c, err := Quick("", "https://o"); err != nil || c.Listen != "127.0.0.1:8080" {
		t.Errorf(`Quick("", ...) = %v, %v; want the default listen`, c, err)
	}
	_, err = Quick("nope", "ftp://x")
	for _, want := range []string{`quick start: listen: "nope"`, `quick start: sites[0].origins[0].url: "ftp://x"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Quick error lacks %q: %v", want, err)
		}
	}
}
