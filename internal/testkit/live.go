package testkit

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// maxRenditions bounds LiveFFmpeg's ladder (one picture height each).
const maxRenditions = 4

// heights are the picture heights of LiveFFmpeg's renditions, best first.
var heights = [maxRenditions]int{180, 144, 108, 72}

// LiveFFmpeg starts ffmpeg's own HLS muxer writing a live stream into dir
// for as long as ctx and the test last: segments of segSeconds, a sliding
// window of 6 whose old segments are deleted, as a new user would set it
// up. One rendition writes a single media playlist, index.m3u8; more write
// ffmpeg's flat layout, the one its documentation shows: master.m3u8
// listing stream_0.m3u8, stream_1.m3u8... (best first), with every
// playlist and segment (stream_<v><n>.ts) in dir itself. It returns, once
// every media playlist lists 3 segments, the entry playlist's name.
func LiveFFmpeg(t testing.TB, ctx context.Context, dir string, renditions, segSeconds int) string {
	t.Helper()
	if renditions < 1 || renditions > maxRenditions || segSeconds < 1 {
		t.Fatalf("LiveFFmpeg: %d renditions of %d s segments: want 1 to %d renditions, segments of 1 s or more",
			renditions, segSeconds, maxRenditions)
	}
	ff := NeedTool(t, "ffmpeg")
	gop := fmt.Sprint(25 * segSeconds) // a keyframe opens every segment
	args := []string{"-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"}
	args = append(args, ladder(renditions)...)
	args = append(args, "-c:v", "libx264", "-profile:v", "baseline", "-preset", "ultrafast", "-g", gop,
		"-keyint_min", gop, "-sc_threshold", "0", "-c:a", "aac", "-b:a", "64k",
		"-f", "hls", "-hls_time", fmt.Sprint(segSeconds), "-hls_list_size", "6",
		"-hls_flags", "delete_segments+temp_file")
	entry, out, media := "index.m3u8", "index.m3u8", []string{"index.m3u8"}
	if renditions > 1 {
		entry, out, media = "master.m3u8", "stream_%v.m3u8", nil
		var vsm []string
		for i := range renditions {
			vsm = append(vsm, fmt.Sprintf("v:%d,a:%d", i, i))
			media = append(media, fmt.Sprintf("stream_%d.m3u8", i))
		}
		args = append(args, "-master_pl_name", entry, "-var_stream_map", strings.Join(vsm, " "))
	}
	args = append(args, filepath.Join(dir, out))
	cmd := exec.CommandContext(ctx, ff, args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start ffmpeg: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitFor(t, 20*time.Second+3*time.Duration(segSeconds)*time.Second, func() bool {
		for _, m := range media {
			b, err := os.ReadFile(filepath.Join(dir, m))
			if err != nil || strings.Count(string(b), "#EXTINF") < 3 {
				return false
			}
		}
		return true
	}, "ffmpeg to publish 3 segments of every rendition")
	return entry
}

// ladder returns ffmpeg's arguments that map n renditions of the test
// picture (each smaller and cheaper than the one before) and one audio
// track each.
func ladder(n int) []string {
	if n == 1 {
		return []string{"-map", "0:v", "-map", "1:a", "-b:v", "300k"}
	}
	var graph, outs strings.Builder
	fmt.Fprintf(&graph, "[0:v]split=%d", n)
	for i := range n {
		fmt.Fprintf(&graph, "[s%d]", i)
		fmt.Fprintf(&outs, ";[s%d]scale=-2:%d[v%d]", i, heights[i], i)
	}
	args := []string{"-filter_complex", graph.String() + outs.String()}
	for i := range n {
		args = append(args, "-map", fmt.Sprintf("[v%d]", i), fmt.Sprintf("-b:v:%d", i), fmt.Sprintf("%dk", 300/(i+1)))
	}
	for range n {
		args = append(args, "-map", "1:a")
	}
	return args
}

// accessLine is a GET in http.server's access log; its group is the
// request target.
var accessLine = regexp.MustCompile(`"GET ([^ ]+) HTTP`)

// StaticServer serves dir with Python's http.server (a static server
// rempart did not write) on a free loopback port for as long as ctx and
// the test last. It returns the server's URL and a counter of the GET
// requests it received, per request target (query included), read from
// its access log.
func StaticServer(t testing.TB, ctx context.Context, dir string) (string, func() map[string]int) {
	t.Helper()
	py := NeedTool(t, "python3")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	cmd := exec.CommandContext(ctx, py, "-u", "-m", "http.server", "--bind", "127.0.0.1", "--directory", dir, fmt.Sprint(port))
	logR, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start python http.server: %v", err)
	}
	var mu sync.Mutex // guards hits
	hits := map[string]int{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(logR)
		for sc.Scan() {
			if m := accessLine.FindStringSubmatch(sc.Text()); m != nil {
				mu.Lock()
				hits[m[1]]++
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { cmd.Process.Kill(); <-done; cmd.Wait() })
	waitFor(t, 10*time.Second, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, "python http.server to listen")
	return "http://" + addr, func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		out := make(map[string]int, len(hits))
		for k, v := range hits {
			out[k] = v
		}
		return out
	}
}

// waitFor polls cond until it holds, failing the test after within.
func waitFor(t testing.TB, within time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
