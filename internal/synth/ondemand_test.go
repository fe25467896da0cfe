package synth

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"strconv"
	"testing"
)

func TestTracksAreWAV(t *testing.T) {
	for _, tr := range newTracks() {
		d := tr.data
		if string(d[0:4]) != "RIFF" || string(d[8:16]) != "WAVEfmt " || string(d[36:40]) != "data" {
			t.Fatalf("%s: bad header % x", tr.ID, d[:44])
		}
		if got := binary.LittleEndian.Uint32(d[40:]); int(got) != len(d)-44 {
			t.Errorf("%s: data size %d, file has %d", tr.ID, got, len(d)-44)
		}
		if tr.Seconds < 20 || tr.Seconds > 30 {
			t.Errorf("%s: %.1f s, want 20–30", tr.ID, tr.Seconds)
		}
	}
}

func TestTrackRanges(t *testing.T) {
	s, ts := startServer(t, Options{})
	tr := s.tracks[1]
	url := ts.URL + tr.URL
	size := len(tr.data)

	resp, body := get(t, url)
	if resp.StatusCode != 200 || !bytes.Equal(body, tr.data) || resp.Header.Get("Accept-Ranges") != "bytes" ||
		resp.Header.Get("Cache-Control") != "max-age=3600" || resp.Header.Get("Last-Modified") == "" {
		t.Fatalf("full GET: %s %v (%d bytes)", resp.Status, resp.Header, len(body))
	}
	etag := resp.Header.Get("ETag")
	for _, tc := range []struct {
		name, rng, ifRange string
		status             int
		from, to           int // expected body tr.data[from:to]
	}{
		{"prefix", "bytes=0-99", "", 206, 0, 100},
		{"middle", "bytes=1000-1999", "", 206, 1000, 2000},
		{"suffix", "bytes=-44", "", 206, size - 44, size},
		{"open end", "bytes=100-", "", 206, 100, size},
		{"past end", "bytes=" + strconv.Itoa(size) + "-", "", 416, 0, 0},
		{"if-range match", "bytes=0-9", etag, 206, 0, 10},
		{"if-range stale", "bytes=0-9", `"other"`, 200, 0, size},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			req.Header.Set("Range", tc.rng)
			if tc.ifRange != "" {
				req.Header.Set("If-Range", tc.ifRange)
			}
			resp, body := fetch(t, req)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %s, want %d", resp.Status, tc.status)
			}
			if tc.status != 416 && !bytes.Equal(body, tr.data[tc.from:tc.to]) {
				t.Errorf("body %d bytes, want bytes %d–%d", len(body), tc.from, tc.to)
			}
		})
	}
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("If-None-Match", etag)
	if resp, _ := fetch(t, req); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %s, want 304", resp.Status)
	}
	if resp, _ := get(t, ts.URL+"/ondemand/track9.wav"); resp.StatusCode != 404 {
		t.Errorf("unknown track: %s", resp.Status)
	}
}

func TestFFprobeTrack(t *testing.T) {
	s, ts := startServer(t, Options{})
	p := ffprobe(t, ts.URL+s.tracks[0].URL)
	if len(p.Streams) != 1 || p.Streams[0].CodecName != "pcm_s16le" {
		t.Errorf("track streams %+v, want one pcm_s16le", p.Streams)
	}
}
