package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/evidence"
	"github.com/rempart/rempart/internal/telemetry"
)

var evidenceT0 = time.Date(2026, 3, 14, 20, 0, 0, 0, time.UTC)

// evidenceLog writes n refused requests, one a minute from evidenceT0, to
// a new log and returns its directory.
func evidenceLog(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	l, err := evidence.Open(config.Evidence{Dir: dir, SampleRate: 1, PerSecond: 1000}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	for i := range n {
		rec := &telemetry.Record{Start: evidenceT0.Add(time.Duration(i) * time.Minute),
			Client: netip.MustParseAddr("198.51.100.7"), Status: 403}
		rec.Decide("filter", telemetry.OutcomeRefused, "blocked")
		l.Observe(rec, httptest.NewRequest("GET", "http://tv.example/live/master.m3u8", nil), evidenceT0)
	}
	for deadline := time.Now().Add(5 * time.Second); l.Stats().Written < uint64(n) && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return dir
}

func runRoot(args ...string) (string, error) {
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func TestEvidenceVerifyCommand(t *testing.T) {
	dir := evidenceLog(t, 5)
	out, err := runRoot("evidence", "verify", "--dir", dir)
	if err != nil || !strings.Contains(out, "OK: the chain holds") || !strings.Contains(out, "5 requests") {
		t.Fatalf("verify: %v\n%s", err, out)
	}

	segs, _ := filepath.Glob(filepath.Join(dir, "evidence-*.jsonl"))
	data, _ := os.ReadFile(segs[0])
	os.WriteFile(segs[0], bytes.Replace(data, []byte("198.51.100.7"), []byte("198.51.100.8"), 1), 0o600)
	_, err = runRoot("evidence", "verify", "--dir", dir)
	var ue usageError
	if err == nil || errors.As(err, &ue) || !strings.Contains(err.Error(), filepath.Base(segs[0])+" line 1 (seq 1): hash mismatch") {
		t.Fatalf("tampered log: err %v, want exit 1 naming file, line and seq", err)
	}
}

// TestEvidenceVerifyHead: against the published head, read from its file
// or from the admin API on loopback, verify finds a cut tail it cannot see
// without it; a head URL off loopback is refused.
func TestEvidenceVerifyHead(t *testing.T) {
	dir := evidenceLog(t, 5)
	head, err := os.ReadFile(dir + ".head")
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(head) }))
	defer api.Close()
	for _, src := range []string{dir + ".head", api.URL + "/api/evidence/head"} {
		out, err := runRoot("evidence", "verify", "--dir", dir, "--head", src)
		if err != nil || !strings.Contains(out, "published head: the log reaches the head") {
			t.Fatalf("--head %s: %v\n%s", src, err, out)
		}
	}

	segs, _ := filepath.Glob(filepath.Join(dir, "evidence-*.jsonl"))
	data, _ := os.ReadFile(segs[0])
	lines := bytes.SplitAfter(data, []byte("\n"))
	os.WriteFile(segs[0], bytes.Join(lines[:3], nil), 0o600) // the last 2 entries cut
	if out, err := runRoot("evidence", "verify", "--dir", dir); err != nil || !strings.Contains(out, "not checked") {
		t.Fatalf("cut tail without --head: %v\n%s", err, out)
	}
	_, err = runRoot("evidence", "verify", "--dir", dir, "--head", api.URL+"/api/evidence/head")
	if err == nil || !strings.Contains(err.Error(), "line 3 (seq 3): the log ends at seq 3") ||
		!strings.Contains(err.Error(), "the last 2 entries were removed (tail truncated)") {
		t.Fatalf("cut tail against the head: %v", err)
	}

	_, err = runRoot("evidence", "verify", "--dir", dir, "--head", "http://192.0.2.1:9090/api/evidence/head")
	var ue usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "must be on loopback") {
		t.Fatalf("head off loopback: %v", err)
	}
	_, err = runRoot("evidence", "verify", "--dir", dir, "--key", filepath.Join(t.TempDir(), "none"))
	if !errors.Is(err, evidence.ErrNoKey) || !strings.Contains(err.Error(), "--key FILE") {
		t.Fatalf("missing key: %v", err)
	}
}

func TestEvidenceCommandUsage(t *testing.T) {
	for _, args := range [][]string{
		{"evidence"},
		{"evidence", "verify"},
		{"evidence", "export", "--dir", "x", "--since", "yesterday"},
		{"evidence", "export", "--dir", "x", "--since", "-1h", "--until", "-2h"},
	} {
		_, err := runRoot(args...)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("%v: err %v, want a usage error", args, err)
		}
	}
}

func TestEvidenceExportCommand(t *testing.T) {
	dir := evidenceLog(t, 10)
	outPath := filepath.Join(t.TempDir(), "export.jsonl")
	var stdout, stderr bytes.Buffer
	now := evidenceT0.Add(10 * time.Minute)
	f := exportFlags{evidenceDir: evidenceDir{dir: dir}, since: "-5m", until: "2026-03-14T20:08:00Z", out: outPath}
	if err := runEvidenceExport(context.Background(), &stdout, &stderr, f, now); err != nil {
		t.Fatalf("export: %v (%s)", err, stderr.String())
	}
	data, _ := os.ReadFile(outPath)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 4 || !strings.Contains(lines[3], `"verified":true`) ||
		!strings.Contains(lines[3], `{"key":"198.51.100.7","n":3}`) || stdout.Len() != 0 {
		t.Fatalf("export of minutes 5 to 8: %d lines\n%s", len(lines), data)
	}
}

func TestEvidenceParseWhen(t *testing.T) {
	now := evidenceT0
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"", time.Time{}, true},
		{"-1h", now.Add(-time.Hour), true},
		{"2026-03-14T19:00:00+01:00", time.Date(2026, 3, 14, 18, 0, 0, 0, time.UTC), true},
		{"-1x", time.Time{}, false},
		{"14/03/2026", time.Time{}, false},
	}
	for _, tt := range tests {
		got, err := parseWhen("--since", tt.in, now)
		if (err == nil) != tt.ok || !got.Equal(tt.want) {
			t.Errorf("parseWhen(%q) = %v, %v", tt.in, got, err)
		}
	}
}
