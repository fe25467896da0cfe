package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/filter"
)

// runCLI runs rempart with args and returns what it printed and its error.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

// adminServer hosts a Shield's admin API as a running edge would.
func adminServer(t *testing.T) (*filter.Shield, string) {
	t.Helper()
	s, err := filter.New(config.Shield{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.AdminHandler())
	t.Cleanup(srv.Close)
	return s, strings.TrimPrefix(srv.URL, "http://")
}

func TestBlockCommands(t *testing.T) {
	s, addr := adminServer(t)

	out, err := runCLI(t, "block", "203.0.113.0/24", "--ttl", "2h", "--reason", "scraping", "--admin", addr)
	if err != nil || !strings.HasPrefix(out, "blocked 203.0.113.0/24 until ") || !strings.Contains(out, "scraping") {
		t.Fatalf("block: %q %v", out, err)
	}
	if _, err := runCLI(t, "block", "198.51.100.7", "--admin", "http://"+addr); err != nil {
		t.Fatalf("block an address, --admin as URL: %v", err)
	}
	if n := len(s.Blocks()); n != 2 {
		t.Fatalf("edge holds %d blocks, want 2", n)
	}

	out, err = runCLI(t, "blocks", "--admin", addr)
	if err != nil || !strings.Contains(out, "PREFIX") || !strings.Contains(out, "198.51.100.7/32") ||
		!strings.Contains(out, "operator") || !strings.Contains(out, "2 block(s)") {
		t.Fatalf("blocks: %q %v", out, err)
	}
	out, err = runCLI(t, "blocks", "--json", "--admin", addr)
	var list []filter.BlockInfo
	if err != nil || json.Unmarshal([]byte(out), &list) != nil || len(list) != 2 {
		t.Fatalf("blocks --json: %q %v", out, err)
	}

	if out, err = runCLI(t, "unblock", "203.0.113.0/24", "--admin", addr); err != nil || out != "unblocked 203.0.113.0/24\n" {
		t.Fatalf("unblock: %q %v", out, err)
	}
	if _, err = runCLI(t, "unblock", "203.0.113.0/24", "--admin", addr); err == nil || !strings.Contains(err.Error(), "not blocked") {
		t.Fatalf("unblock again: %v, want the API's 'not blocked'", err)
	}
}

func TestBlockCommandErrorsNameTheirInput(t *testing.T) {
	_, addr := adminServer(t)
	tests := []struct {
		args  []string
		says  string
		usage bool
	}{
		{[]string{"block"}, "one PREFIX", true},
		{[]string{"block", "nonsense", "--admin", addr}, "PREFIX", true},
		{[]string{"block", "0.0.0.0/0", "--admin", addr}, "/8 or narrower", true},
		{[]string{"block", "203.0.113.1", "--ttl", "0s", "--admin", addr}, "--ttl", true},
		{[]string{"block", "203.0.113.1", "--ttl", "10000h", "--admin", addr}, "--ttl", true},
		{[]string{"block", "203.0.113.1", "--ttl", "soon", "--admin", addr}, "ttl", true},
		{[]string{"block", "203.0.113.1", "--admin", "nohost"}, "--admin", true},
		{[]string{"block", "203.0.113.1", "--admin", "ftp://x:1"}, "--admin", true},
		{[]string{"unblock", "x", "--admin", addr}, "PREFIX", true},
		{[]string{"blocks", "extra", "--admin", addr}, "blocks", true},
		{[]string{"blocks", "--admin", "127.0.0.1:1"}, "--admin", false},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, err := runCLI(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("error %v, want one naming %q", err, tc.says)
			}
			var ue usageError
			if tc.usage && !errors.As(err, &ue) && !strings.Contains(err.Error(), "unknown command") && !strings.Contains(err.Error(), "see 'rempart") {
				t.Fatalf("error %v is not a usage error (exit 2)", err)
			}
		})
	}
}
