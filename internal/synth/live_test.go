package synth

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// mediaSequence extracts #EXT-X-MEDIA-SEQUENCE and the segment URIs.
func mediaSequence(t *testing.T, body []byte) (int64, []string) {
	t.Helper()
	m := regexp.MustCompile(`#EXT-X-MEDIA-SEQUENCE:(\d+)`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no media sequence in:\n%s", body)
	}
	seq, _ := strconv.ParseInt(string(m[1]), 10, 64)
	var uris []string
	for _, line := range strings.Split(string(body), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			uris = append(uris, line)
		}
	}
	return seq, uris
}

func TestMediaPlaylistFollowsClock(t *testing.T) {
	clock := newFakeClock(testEpoch.Add(500 * time.Millisecond))
	_, ts := startServer(t, Options{SegmentDuration: 2 * time.Second, Window: 5, Now: clock.Now})
	url := ts.URL + "/live/360p/index.m3u8"

	resp, body := get(t, url)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	for h, want := range map[string]string{"Content-Type": "application/vnd.apple.mpegurl", "Cache-Control": "max-age=1"} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	edge := testEpoch.Unix() / 2
	seq, uris := mediaSequence(t, body)
	if seq != edge-4 || len(uris) != 5 || uris[4] != fmt.Sprintf("%d.ts", edge) {
		t.Fatalf("sequence %d, uris %v; want %d and 5 ending at %d.ts", seq, uris, edge-4, edge)
	}
	for _, want := range []string{"#EXT-X-VERSION:3\n", "#EXT-X-TARGETDURATION:2\n", "#EXTINF:2.000,\n",
		"#EXT-X-PROGRAM-DATE-TIME:" + time.Unix((edge-4)*2, 0).UTC().Format("2006-01-02T15:04:05.000Z")} {
		if !strings.Contains(string(body), want) {
			t.Errorf("playlist lacks %q:\n%s", want, body)
		}
	}

	clock.Advance(1499 * time.Millisecond) // just before the next segment
	if seq2, _ := mediaSequence(t, mustGet(t, url)); seq2 != seq {
		t.Errorf("at +1.999s sequence %d, want %d", seq2, seq)
	}
	clock.Advance(time.Millisecond)
	if seq2, _ := mediaSequence(t, mustGet(t, url)); seq2 != seq+1 {
		t.Errorf("at +2s sequence %d, want %d", seq2, seq+1)
	}
	clock.Advance(20 * time.Second)
	if seq2, _ := mediaSequence(t, mustGet(t, url)); seq2 != seq+11 {
		t.Errorf("at +22s sequence %d, want %d", seq2, seq+11)
	}
}

func mustGet(t *testing.T, url string) []byte {
	t.Helper()
	resp, body := get(t, url)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return body
}

func TestSegmentWindow(t *testing.T) {
	clock := newFakeClock(testEpoch)
	s, ts := startServer(t, Options{Window: 6, Now: clock.Now})
	edge := testEpoch.Unix() / 2
	for _, tc := range []struct {
		seq  int64
		want int
	}{
		{edge, 200}, {edge - 5, 200}, {edge - 8, 200},
		{edge + 1, 404}, {edge - 9, 404}, {0, 404},
	} {
		resp, body := get(t, fmt.Sprintf("%s/live/240p/%d.ts", ts.URL, tc.seq))
		if resp.StatusCode != tc.want {
			t.Errorf("segment edge%+d: %s, want %d", tc.seq-edge, resp.Status, tc.want)
			continue
		}
		if tc.want == 404 {
			if cc := resp.Header.Get("Cache-Control"); cc != "max-age=1" {
				t.Errorf("404 Cache-Control %q", cc)
			}
			continue
		}
		if resp.Header.Get("Content-Type") != "video/mp2t" || resp.Header.Get("Cache-Control") != "max-age=3600" ||
			resp.Header.Get("ETag") == "" {
			t.Errorf("segment headers: %v", resp.Header)
		}
		if checkTS(body) != nil || firstVideoPTS(t, body) != wrap33(s.live.loop.renditions[0].start+tc.seq*2*90000) {
			t.Errorf("segment %d: bad body", tc.seq)
		}
	}
	for _, bad := range []string{"/live/240p/007.ts", "/live/240p/-1.ts", "/live/240p/x.ts", "/live/999p/index.m3u8",
		"/live/240p/1.mp4", "/live/240p/index.m3u", "/live/master.m3u"} {
		if resp, _ := get(t, ts.URL+bad); resp.StatusCode != 404 {
			t.Errorf("GET %s: %s, want 404", bad, resp.Status)
		}
	}
}

func TestSegmentValidators(t *testing.T) {
	clock := newFakeClock(testEpoch)
	s, ts := startServer(t, Options{Now: clock.Now})
	url := fmt.Sprintf("%s/live/480p/%d.ts", ts.URL, testEpoch.Unix()/2)
	resp, body := get(t, url)
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	if resp2, _ := fetch(t, req); resp2.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %s, want 304", resp2.Status)
	}
	_, again := get(t, url)
	if string(again) != string(body) {
		t.Error("the same segment differs between requests")
	}
	if built, served := s.Stats().SegmentsBuilt.Load(), s.Stats().Segments.Load(); built != 1 || served != 3 {
		t.Errorf("built %d served %d, want 1 and 3 (cache)", built, served)
	}
}

func TestMasterPlaylist(t *testing.T) {
	_, ts := startServer(t, Options{})
	resp, body := get(t, ts.URL+"/live/master.m3u8")
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "max-age=5" {
		t.Fatalf("master: %s %v", resp.Status, resp.Header)
	}
	re := regexp.MustCompile(`#EXT-X-STREAM-INF:BANDWIDTH=(\d+),AVERAGE-BANDWIDTH=(\d+),RESOLUTION=(\d+)x(\d+),` +
		`CODECS="avc1\.42[ce]0[0-9a-f]{2},mp4a\.40\.2",FRAME-RATE=25\.000\n(\w+)/index\.m3u8\n`)
	variants := re.FindAllSubmatch(body, -1)
	if len(variants) < 3 {
		t.Fatalf("want ≥ 3 variants, got %d:\n%s", len(variants), body)
	}
	for _, v := range variants {
		peak, _ := strconv.Atoi(string(v[1]))
		avg, _ := strconv.Atoi(string(v[2]))
		if avg <= 0 || peak < avg {
			t.Errorf("%s: BANDWIDTH %d < AVERAGE-BANDWIDTH %d", v[5], peak, avg)
		}
		if resp, _ := get(t, ts.URL+"/live/"+string(v[5])+"/index.m3u8"); resp.StatusCode != 200 {
			t.Errorf("variant %s: %s", v[5], resp.Status)
		}
	}
}

func TestMasterBandwidthCountsPadding(t *testing.T) {
	s, err := New(Options{SegmentBytes: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	peak, avg := s.live.bandwidth(s.live.loop.renditions[0])
	want := ((4<<20+tsPacketSize-1)/tsPacketSize*tsPacketSize*8 + 1) / 2
	if peak < want || avg < want {
		t.Errorf("padded bandwidth peak %d avg %d, want ≥ %d", peak, avg, want)
	}
}

func TestLatency(t *testing.T) {
	_, ts := startServer(t, Options{Latency: 80 * time.Millisecond})
	start := time.Now()
	get(t, ts.URL+"/healthz")
	if el := time.Since(start); el < 80*time.Millisecond {
		t.Errorf("answered in %v, want ≥ 80ms", el)
	}
}
