package synth

import (
	"github.com/rempart/rempart/internal/testkit"

	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// probe is the part of ffprobe's JSON the tests read.
type probe struct {
	Streams []struct {
		CodecType string `json:"codec_type"`
		CodecName string `json:"codec_name"`
		Profile   string `json:"profile"`
		Width     int    `json:"width"`
		Height    int    `json:"height"`
	} `json:"streams"`
	Format struct {
		Duration string `json:"duration"`
	} `json:"format"`
}

// ffprobe runs Debian's ffprobe on url; any error output fails the test.
func ffprobe(t *testing.T, url string) probe {
	t.Helper()
	bin := testkit.NeedTool(t, "ffprobe")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "-v", "error", "-show_entries",
		"stream=codec_type,codec_name,profile,width,height:format=duration", "-of", "json", url)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("ffprobe %s: %v\n%s", url, err, stderr.String())
	}
	var p probe
	if err := json.Unmarshal(stdout.Bytes(), &p); err != nil {
		t.Fatalf("ffprobe output: %v\n%s", err, stdout.String())
	}
	return p
}

// checkProbe verifies a segment is H.264 Constrained Baseline + AAC-LC of
// about d seconds.
func checkProbe(t *testing.T, p probe, d time.Duration) {
	t.Helper()
	kinds := map[string]bool{}
	for _, s := range p.Streams {
		kinds[s.CodecType] = true
		switch s.CodecType {
		case "video":
			if s.CodecName != "h264" || s.Profile != "Constrained Baseline" {
				t.Errorf("video %s profile %q, want h264 Constrained Baseline", s.CodecName, s.Profile)
			}
		case "audio":
			if s.CodecName != "aac" || s.Profile != "LC" {
				t.Errorf("audio %s profile %q, want aac LC", s.CodecName, s.Profile)
			}
		}
	}
	if !kinds["video"] || !kinds["audio"] {
		t.Errorf("streams %+v, want video and audio", p.Streams)
	}
	dur, err := strconv.ParseFloat(p.Format.Duration, 64)
	if err != nil || math.Abs(dur-d.Seconds()) > 0.1 {
		t.Errorf("duration %q, want %.1f ± 0.1", p.Format.Duration, d.Seconds())
	}
}

func TestFFprobeSegment(t *testing.T) {
	for _, d := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		t.Run(d.String(), func(t *testing.T) {
			// Half a segment before a loop point, so D ≥ 2 straddles it.
			clock := newFakeClock(testEpoch.Add(-d / 2))
			s, ts := startServer(t, Options{SegmentDuration: d, Now: clock.Now})
			seq := s.live.edge(clock.Now())
			for _, r := range s.live.loop.renditions {
				checkProbe(t, ffprobe(t, fmt.Sprintf("%s/live/%s/%d.ts", ts.URL, r.name, seq)), d)
			}
		})
	}
}

func TestFFprobePaddedSegment(t *testing.T) {
	const pad = 3 << 20
	clock := newFakeClock(testEpoch)
	s, ts := startServer(t, Options{SegmentBytes: pad, Now: clock.Now})
	url := fmt.Sprintf("%s/live/480p/%d.ts", ts.URL, s.live.edge(clock.Now()))
	if _, body := get(t, url); len(body) < pad {
		t.Fatalf("padded segment has %d bytes, want ≥ %d", len(body), pad)
	}
	checkProbe(t, ffprobe(t, url), 2*time.Second)
}

// TestFFmpegPlaysLive has Debian's ffmpeg play the live stream on the real
// clock: with 1-second segments and an 8-second loop, 8 seconds of playback
// always cross the loop point.
func TestFFmpegPlaysLive(t *testing.T) {
	bin := testkit.NeedTool(t, "ffmpeg")
	if testing.Short() {
		t.Skip("plays 8 s of live stream in real time")
	}
	_, ts := startServer(t, Options{SegmentDuration: time.Second})
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "-nostdin", "-v", "error", "-i", ts.URL+"/live/master.m3u8",
		"-map", "0:v:0", "-map", "0:a:0", "-t", "8", "-f", "null", "-")
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("ffmpeg: %v\n%s", err, stderr.String())
	}
}
