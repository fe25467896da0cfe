package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/browsertest"
	"github.com/rempart/rempart/internal/synth"
	"github.com/rempart/rempart/internal/testkit"
	"github.com/rempart/rempart/web"
)

// syncBuffer collects the demo's printed output while it runs.
type syncBuffer struct {
	mu sync.Mutex // protects b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startDemo runs `rempart demo` in-process on free loopback ports and
// returns the page URL and the stream URL it printed.
func startDemo(t *testing.T) (page, stream string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	opts := synth.Options{SegmentDuration: time.Second, Window: 6}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() {
		done <- runDemo(ctx, out, "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", opts, logger)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo stopped with: %v", err)
		}
	})
	re := regexp.MustCompile(`Watch:\s+(\S+)[\s\S]*Stream:\s+(\S+)`)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1], m[2]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("demo printed no URLs:\n%s", out.String())
	return "", ""
}

// TestDemoPlaysThroughEdge: ffprobe sees the expected stream through the
// edge, ffmpeg plays it live without error, and the demo page plays it in
// headless Chromium with the live panel filled in.
func TestDemoPlaysThroughEdge(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end with ffmpeg and chromium (-short)")
	}
	page, stream := startDemo(t)
	t.Run("ffprobe", func(t *testing.T) { probeStream(t, stream) })
	t.Run("ffmpeg plays", func(t *testing.T) {
		out, err := exec.Command(testkit.NeedTool(t, "ffmpeg"), "-hide_banner", "-v", "error",
			"-i", stream, "-t", "8", "-f", "null", "-").CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Fatalf("ffmpeg through the edge: %v\n%s", err, out)
		}
	})
	t.Run("page", func(t *testing.T) { checkPage(t, page) })
}

func probeStream(t *testing.T, stream string) {
	out, err := exec.Command(testkit.NeedTool(t, "ffprobe"), "-v", "error", "-show_entries",
		"stream=codec_name,profile,width", "-show_entries", "program=program_id", "-of", "json", stream).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", stream, err)
	}
	var res struct {
		Programs []struct {
			Streams []struct {
				Codec   string `json:"codec_name"`
				Profile string `json:"profile"`
				Width   int    `json:"width"`
			} `json:"streams"`
		} `json:"programs"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("ffprobe output: %v\n%s", err, out)
	}
	widths := map[int]bool{}
	for _, p := range res.Programs {
		for _, s := range p.Streams {
			if s.Codec == "h264" {
				widths[s.Width] = true
				if s.Profile != "Constrained Baseline" {
					t.Errorf("h264 profile %q, want Constrained Baseline", s.Profile)
				}
			}
		}
	}
	if len(widths) < 3 {
		t.Errorf("ffprobe saw renditions %v, want 3:\n%s", widths, out)
	}
}

func checkPage(t *testing.T, page string) {
	if !web.HLSBuilt() {
		t.Fatal("hls.js is not embedded: run `make web` before the tests")
	}
	ctx := browsertest.New(t)
	browsertest.Navigate(t, ctx, page)
	browsertest.WaitFor(t, ctx,
		"window.rempartDemo.playing && document.querySelector('video').currentTime > 3 && document.querySelector('#play-state').textContent === 'playing'",
		40*time.Second, "JSON.stringify(window.rempartDemo)", "document.querySelector('video').currentTime")
	// The panel shows the edge's live figures: after a few seconds of play
	// the player has fetched segments, so there is a viewer and a hit ratio.
	browsertest.WaitFor(t, ctx, "document.querySelector('#stat-viewers').textContent === '1'",
		10*time.Second, "document.querySelector('#stat-viewers').textContent")
	hit := browsertest.Text(t, ctx, "#stat-hit-ratio")
	if !strings.HasSuffix(hit, "%") {
		t.Errorf("hit ratio shown as %q", hit)
	}
	if n := browsertest.Eval[int](t, ctx, "window.rempartDemo.errors"); n != 0 {
		t.Errorf("player errors: %d; console: %v", n, browsertest.Messages(ctx))
	}
	dir := os.Getenv("REMPART_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	browsertest.Screenshot(t, ctx, filepath.Join(dir, "demo-through-edge.png"))
}

// TestCLIErrorsNameTheFlag: bad flags exit 2 with the flag named.
func TestCLIErrorsNameTheFlag(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"serve"}, "--origin"},
		{[]string{"serve", "--origin", "ftp://x"}, "--origin"},
		{[]string{"serve", "--origin", "http://127.0.0.1:9", "--listen", "nowhere"}, "--listen"},
		{[]string{"serve", "--config", "x.yaml", "--origin", "http://a"}, "--origin cannot be combined with --config"},
		{[]string{"serve", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"origin", "--segment-duration", "1500ms"}, "--segment-duration"},
		{[]string{"origin", "--window", "1"}, "--window"},
		{[]string{"origin", "--segment-size", "lots"}, "--segment-size"},
		{[]string{"origin", "--renditions", "4"}, "--renditions"},
		{[]string{"origin", "--max-concurrent", "-1"}, "--max-concurrent"},
		{[]string{"origin", "--max-queue", "20"}, "--max-queue: invalid synth option: MaxQueue 20: needs MaxConcurrent"},
		{[]string{"serve", "--origin", "http://a", "--log-level", "loud"}, "--log-level"},
		{[]string{"config", "check"}, "one FILE"},
		{[]string{"config", "check", "/nonexistent.yaml"}, "nonexistent.yaml"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			root := newRoot()
			root.SetArgs(tt.args)
			root.SetOut(io.Discard)
			err := root.Execute()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestConfigCheckExample(t *testing.T) {
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"config", "check", "../../rempart.example.yaml"})
	if err := root.Execute(); err != nil {
		t.Fatalf("config check of the example: %v", err)
	}
	if !strings.Contains(out.String(), "OK") {
		t.Fatalf("output %q", out.String())
	}
}
