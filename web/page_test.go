package web_test

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/browsertest"
	"github.com/rempart/rempart/web"
)

// csp is the policy the page must live under: no inline script or style, no
// third-party origin. media-src allows blob: for Media Source Extensions.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"connect-src 'self'; media-src 'self' blob:; img-src 'self' data:"

// statsJSON is what the fake edge reports, and wantStats how the panel
// must show it.
const statsJSON = `{"hit_ratio":0.97,"origin_rps":1.5,"requests_rps":40.2,"viewers":3,` +
	`"cache_bytes":123456,"cache_objects":42,"uptime_seconds":12}`

var wantStats = map[string]string{
	"#stat-hit-ratio":    "97.0 %",
	"#stat-origin-rps":   "1.5 /s",
	"#stat-requests-rps": "40.2 /s",
	"#stat-viewers":      "3",
	"#stat-cache":        "120.6 KiB · 42 objects",
	"#stat-uptime":       "12 s",
}

// Every JS expression a failed wait prints, to tell what the page saw.
var pageState = []string{
	"JSON.stringify(window.rempartDemo)",
	"document.querySelector('video').currentTime",
	"document.querySelector('#stream-notice').textContent",
	"document.querySelector('#stats-notice').textContent",
}

func TestDemoPage(t *testing.T) {
	requireHLSBuilt(t)
	s := newSite(t)
	ctx := browsertest.New(t)
	shots := artifactsDir(t)

	t.Run("plays", func(t *testing.T) {
		start := time.Now()
		browsertest.Navigate(t, ctx, s.url+"/_rempart/demo.html")
		browsertest.WaitFor(t, ctx,
			"window.rempartDemo.playing && document.querySelector('video').currentTime > 2",
			30*time.Second, pageState...)
		t.Logf("played 2 s of video %v after navigation", time.Since(start).Round(time.Millisecond))
		if first := s.firstMedia.Load(); first == nil || *first != renditions[0].name+".m3u8" {
			t.Errorf("first media playlist loaded: %v, want the lowest rendition's", first)
		}
		if lvl := browsertest.Eval[int](t, ctx, "window.rempartDemo.level"); lvl < 0 {
			t.Errorf("rempartDemo.level = %d while playing, want a rendition index", lvl)
		}
		for sel, want := range wantStats {
			if got := browsertest.Text(t, ctx, sel); got != want {
				t.Errorf("%s shows %q, want %q", sel, got, want)
			}
		}
		browsertest.Screenshot(t, ctx, filepath.Join(shots, "demo-playing.png"))
		for _, m := range browsertest.Messages(ctx) {
			if strings.Contains(m, "Content Security Policy") || strings.HasPrefix(m, "exception") {
				t.Errorf("browser console: %s", m)
			}
		}
	})

	t.Run("stats unavailable", func(t *testing.T) {
		s.statsDown.Store(true)
		defer s.statsDown.Store(false)
		browsertest.WaitFor(t, ctx,
			"document.querySelector('#stats-notice').textContent.includes('Stats unavailable: the edge answered HTTP 503')",
			5*time.Second, pageState...)
		browsertest.Screenshot(t, ctx, filepath.Join(shots, "demo-stats-unavailable.png"))
	})

	t.Run("stream error", func(t *testing.T) {
		s.streamDown.Store(true)
		defer s.streamDown.Store(false)
		browsertest.Navigate(t, ctx, s.url+"/_rempart/demo.html")
		browsertest.WaitFor(t, ctx,
			"document.querySelector('#stream-notice').textContent.startsWith('Stream error: the stream could not be loaded')",
			20*time.Second, pageState...)
		if n := browsertest.Eval[int](t, ctx, "window.rempartDemo.errors"); n == 0 {
			t.Errorf("rempartDemo.errors = 0 after a stream error")
		}
	})

	t.Run("hls.js not built", func(t *testing.T) {
		browsertest.Navigate(t, ctx, s.url+"/nohls/demo.html")
		browsertest.WaitFor(t, ctx,
			"document.querySelector('#stream-notice').textContent.startsWith('hls.js is not built: run `make web`')",
			5*time.Second, pageState...)
		browsertest.Screenshot(t, ctx, filepath.Join(shots, "demo-no-hlsjs.png"))
	})
}

func requireHLSBuilt(t *testing.T) {
	t.Helper()
	if web.HLSBuilt() {
		return
	}
	msg := "web: " + web.HLSPath + " is not embedded: run `make web`, then test again"
	if testing.Short() {
		t.Skip(msg)
	}
	t.Fatal(msg)
}

func artifactsDir(t *testing.T) string {
	if dir := os.Getenv("REMPART_ARTIFACTS"); dir != "" {
		return dir
	}
	return t.TempDir()
}

// site is the fake edge: the embedded assets under /_rempart/ (and, without
// hls.js, under /nohls/), stats, and an HLS stream under /live/.
type site struct {
	url        string
	statsDown  atomic.Bool            // stats.json answers 503
	streamDown atomic.Bool            // /live/ answers 503
	firstMedia atomic.Pointer[string] // the first media playlist asked for
}

func newSite(t *testing.T) *site {
	s := &site{}
	live := http.StripPrefix("/live/", http.FileServer(http.Dir(makeStream(t))))
	mux := http.NewServeMux()
	mux.Handle("/_rempart/", http.StripPrefix("/_rempart", http.FileServerFS(web.Assets())))
	mux.Handle("/nohls/", http.StripPrefix("/nohls", http.FileServerFS(withoutVendor{web.Assets()})))
	mux.HandleFunc("/_rempart/stats.json", func(w http.ResponseWriter, r *http.Request) {
		if s.statsDown.Load() {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(statsJSON))
	})
	mux.HandleFunc("/live/", func(w http.ResponseWriter, r *http.Request) {
		if s.streamDown.Load() {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		switch path.Ext(r.URL.Path) {
		case ".m3u8":
			w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
			if name := path.Base(r.URL.Path); name != "master.m3u8" {
				s.firstMedia.CompareAndSwap(nil, &name)
			}
		case ".ts":
			w.Header().Set("Content-Type", "video/mp2t")
		}
		live.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

// withoutVendor hides vendor/, as in a build where `make web` never ran.
type withoutVendor struct{ fs.FS }

func (f withoutVendor) Open(name string) (fs.File, error) {
	if name == "vendor" || strings.HasPrefix(name, "vendor/") {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return f.FS.Open(name)
}

// renditions of the test stream, lowest first.
var renditions = []struct{ name, size, bitrate, bandwidth string }{
	{"180p", "320x180", "300k", "400000"},
	{"360p", "640x360", "800k", "950000"},
}

// makeStream encodes a 6 s, two-rendition HLS VOD with Debian's ffmpeg
// (H.264 constrained baseline and AAC, 1 s segments) into a temporary
// directory, writes its master playlist, and returns the directory.
func makeStream(t *testing.T) string {
	t.Helper()
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		if testing.Short() {
			t.Skipf("no ffmpeg (-short): %v", err)
		}
		t.Fatalf("no ffmpeg to make the test stream: %v (install Debian's ffmpeg)", err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, ffmpeg, ffmpegArgs(dir)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", errors.Join(err, ctx.Err()), out)
	}
	t.Logf("encoded the test stream in %v", time.Since(start).Round(time.Millisecond))
	master := "#EXTM3U\n#EXT-X-VERSION:3\n"
	for _, r := range renditions {
		master += "#EXT-X-STREAM-INF:BANDWIDTH=" + r.bandwidth + ",RESOLUTION=" + r.size +
			",CODECS=\"avc1.42c01e,mp4a.40.2\"\n" + r.name + ".m3u8\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "master.m3u8"), []byte(master), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func ffmpegArgs(dir string) []string {
	args := []string{"-hide_banner", "-loglevel", "error", "-nostdin",
		"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=6",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=6",
		"-filter_complex", "[0:v]split=2[v0][v1];[v0]scale=320:180[v180];[v1]null[v360]",
	}
	for _, r := range renditions {
		args = append(args,
			"-map", "[v"+strings.TrimSuffix(r.name, "p")+"]", "-map", "1:a",
			"-c:v", "libx264", "-preset", "veryfast", "-profile:v", "baseline", "-level", "3.0",
			"-pix_fmt", "yuv420p", "-b:v", r.bitrate, "-g", "25", "-keyint_min", "25", "-sc_threshold", "0",
			"-c:a", "aac", "-b:a", "64k", "-ac", "2",
			"-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod",
			"-hls_segment_filename", filepath.Join(dir, r.name+"_%03d.ts"),
			filepath.Join(dir, r.name+".m3u8"))
	}
	return args
}
