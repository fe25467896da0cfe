package rewrite

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/rempart/rempart/internal/hls"
)

// without returns master4 less the variants whose URI lines are given.
func without(uris ...string) string {
	lines := strings.SplitAfter(master4, "\n")
	var b strings.Builder
	for i := 0; i < len(lines); i++ {
		if i+1 < len(lines) && strings.HasPrefix(lines[i], "#EXT-X-STREAM-INF") &&
			contains(uris, strings.TrimSpace(lines[i+1])) {
			i++
			continue
		}
		b.WriteString(lines[i])
	}
	return b.String()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func newLadder(t testing.TB, body string) *Ladder {
	t.Helper()
	l, err := NewLadder("/live/master.m3u8", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestLadderDrop(t *testing.T) {
	l := newLadder(t, master4)
	if l.Renditions() != 4 {
		t.Fatalf("Renditions = %d, want 4", l.Renditions())
	}
	for _, tc := range []struct {
		k    int
		want string
	}{
		{-1, master4},
		{0, master4},
		{1, without("1080p/index.m3u8")},
		{2, without("1080p/index.m3u8", "720p/index.m3u8")},
		{3, without("1080p/index.m3u8", "720p/index.m3u8", "480p/index.m3u8")},
		{4, without("1080p/index.m3u8", "720p/index.m3u8", "480p/index.m3u8")},
		{1 << 30, without("1080p/index.m3u8", "720p/index.m3u8", "480p/index.m3u8")},
	} {
		t.Run(fmt.Sprint(tc.k), func(t *testing.T) {
			if got := string(l.Drop(tc.k)); got != tc.want {
				t.Errorf("Drop(%d):\n%s\nwant\n%s", tc.k, got, tc.want)
			}
		})
	}
	crlfLadder := newLadder(t, crlf(master4))
	if got, want := string(crlfLadder.Drop(2)), crlf(without("1080p/index.m3u8", "720p/index.m3u8")); got != want {
		t.Errorf("CRLF Drop(2):\n%q\nwant\n%q", got, want)
	}
}

// variantsLeft returns the URIs of the variants Drop(k) keeps.
func variantsLeft(t *testing.T, l *Ladder, k int) string {
	t.Helper()
	m, err := hls.ParseMaster(l.Drop(k))
	if err != nil {
		t.Fatalf("Drop(%d) does not parse: %v", k, err)
	}
	var uris []string
	for _, v := range m.Variants {
		uris = append(uris, v.URI)
	}
	return strings.Join(uris, " ")
}

func TestLadderRungs(t *testing.T) {
	const (
		avc  = `,CODECS="avc1.640028,mp4a.40.2"`
		aac  = `,CODECS="mp4a.40.2"`
		info = "#EXT-X-STREAM-INF:BANDWIDTH="
	)
	for _, tc := range []struct {
		name   string
		master string
		rungs  int
		left   []string // variants kept by Drop(1), Drop(2)...
	}{
		{"ascending order", info + "1\na\n" + info + "2\nb\n" + info + "3\nc\n", 3, []string{"a b", "a"}},
		{"bandwidth tie: resolution decides", info + "5,RESOLUTION=640x360\nsd\n" + info + "5,RESOLUTION=1280x720\nhd\n", 2, []string{"sd"}},
		{"failover copies are one rung", info + "6,RESOLUTION=2x2\nhd-a\n" + info + "3,RESOLUTION=1x1\nsd\n" + info + "6,RESOLUTION=2x2\nhd-b\n", 2, []string{"sd"}},
		{"audio-only beside video is kept", info + "64000" + aac + "\naudio\n" + info + "3000000,RESOLUTION=1280x720" + avc + "\nhd\n" +
			info + "800000,RESOLUTION=640x360" + avc + "\nsd\n", 2, []string{"audio sd"}},
		{"audio-only ladder", info + "64000" + aac + "\nlow\n" + info + "128000" + aac + "\nhigh\n", 2, []string{"low"}},
		{"no codecs is not audio-only", info + "64000\nx\n" + info + "3000000,RESOLUTION=1280x720\nhd\n", 2, []string{"x"}},
		{"single", info + "1\na\n", 1, []string{"a"}},
		{"no variants", `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="a",URI="a.m3u8"` + "\n", 0, []string{""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLadder(t, "#EXTM3U\n"+tc.master)
			if l.Renditions() != tc.rungs {
				t.Errorf("Renditions = %d, want %d", l.Renditions(), tc.rungs)
			}
			for i, want := range tc.left {
				if got := variantsLeft(t, l, i+1); got != want {
					t.Errorf("Drop(%d) keeps %q, want %q", i+1, got, want)
				}
			}
		})
	}
}

func TestLadderSubstitute(t *testing.T) {
	l := newLadder(t, master4)
	for _, tc := range []struct {
		path string
		k    int
		want string // "" for no substitute
	}{
		{"/live/1080p/index.m3u8", 0, ""},
		{"/live/1080p/index.m3u8", 1, "/live/720p/index.m3u8"},
		{"/live/720p/index.m3u8", 1, ""},
		{"/live/1080p/index.m3u8", 2, "/live/480p/index.m3u8"},
		{"/live/720p/index.m3u8", 2, "/live/480p/index.m3u8"},
		{"/live/1080p/index.m3u8", 9, "/live/360p/index.m3u8"},
		{"/live/360p/index.m3u8", 9, ""},
		{"/live/./x/../1080p//index.m3u8", 1, "/live/720p/index.m3u8"},
		{"/live/1080p/iframes.m3u8", 3, ""},
		{"/live/audio/fr/index.m3u8", 3, ""},
		{"/other/1080p/index.m3u8", 1, ""},
		{"1080p/index.m3u8", 1, ""},
	} {
		t.Run(fmt.Sprintf("%s@%d", tc.path, tc.k), func(t *testing.T) {
			got, ok := l.Substitute(tc.path, tc.k)
			if got != tc.want || ok != (tc.want != "") {
				t.Errorf("Substitute = %q, %v; want %q", got, ok, tc.want)
			}
		})
	}
}

func TestLadderSubstituteURIs(t *testing.T) {
	const info = "#EXT-X-STREAM-INF:BANDWIDTH="
	for _, tc := range []struct {
		name, master, path string
		k                  int
		want               string
	}{
		{"absolute path", info + "2\n/vod/hd.m3u8\n" + info + "1\n/vod/sd.m3u8\n", "/vod/hd.m3u8", 1, "/vod/sd.m3u8"},
		{"parent dir", info + "2\n../hd/i.m3u8\n" + info + "1\n../sd/i.m3u8\n", "/hd/i.m3u8", 1, "/sd/i.m3u8"},
		{"query kept in target", info + "2\nhd.m3u8?a=1\n" + info + "1\nsd.m3u8?cdn=x&b=2#frag\n", "/live/hd.m3u8", 1, "/live/sd.m3u8?cdn=x&b=2"},
		{"escaped path", info + "2\nmy%20show/hd.m3u8\n" + info + "1\nmy%20show/sd.m3u8\n", "/live/my show/hd.m3u8", 1, "/live/my%20show/sd.m3u8"},
		{"absolute url not matched", info + "2\nhttps://cdn.example/live/hd.m3u8\n" + info + "1\nsd.m3u8\n", "/live/hd.m3u8", 1, ""},
		{"absolute url not a target", info + "3\nhd.m3u8\n" + info + "2\nhttps://cdn.example/md.m3u8\n" + info + "1\nsd.m3u8\n", "/live/hd.m3u8", 1, "/live/sd.m3u8"},
		{"path shared with a kept variant", info + "3\nv.m3u8\n" + info + "2\nv.m3u8\n" + info + "1\nsd.m3u8\n", "/live/v.m3u8", 1, ""},
		{"path shared, both dropped", info + "3\nv.m3u8\n" + info + "2\nv.m3u8\n" + info + "1\nsd.m3u8\n", "/live/v.m3u8", 2, "/live/sd.m3u8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLadder(t, "#EXTM3U\n"+tc.master)
			got, ok := l.Substitute(tc.path, tc.k)
			if got != tc.want || ok != (tc.want != "") {
				t.Errorf("Substitute(%q, %d) = %q, %v; want %q", tc.path, tc.k, got, ok, tc.want)
			}
		})
	}
}

func TestLadderSubstituteCodecs(t *testing.T) {
	v := func(bw int, codecs, extra, uri string) string {
		return fmt.Sprintf("#EXT-X-STREAM-INF:BANDWIDTH=%d,CODECS=\"%s\"%s\n%s\n", bw, codecs, extra, uri)
	}
	const hevc, avc, av1 = "hvc1.2.4.L150.B0,mp4a.40.2", "avc1.640028,mp4a.40.2", "av01.0.08M.10"
	mixed := "#EXTM3U\n" + v(12, hevc, "", "hevc2160.m3u8") + v(6, avc, "", "avc1080.m3u8") +
		v(5, hevc, ",VIDEO-RANGE=PQ", "hdr1080.m3u8") + v(4, "hev1.2.4.L120.B0", "", "hevc1080.m3u8") +
		v(3, avc, "", "avc720.m3u8") + v(2, av1, "", "av1-540.m3u8")
	for _, tc := range []struct {
		name, master, path string
		k                  int
		want               string
	}{
		{"avc stays avc", mixed, "/live/avc1080.m3u8", 2, "/live/avc720.m3u8"},
		{"hevc stays hevc", mixed, "/live/hevc2160.m3u8", 1, "/live/hevc1080.m3u8"},
		{"hdr stays hdr", "#EXTM3U\n" + v(9, hevc, ",VIDEO-RANGE=PQ", "pq2160.m3u8") + v(6, avc, "", "avc1080.m3u8") +
			v(5, hevc, ",VIDEO-RANGE=PQ", "pq1080.m3u8"), "/live/pq2160.m3u8", 1, "/live/pq1080.m3u8"},
		{"hdr with no hdr left falls to avc sdr", mixed, "/live/hdr1080.m3u8", 3, "/live/avc720.m3u8"},
		{"hevc falls back to avc", mixed, "/live/hevc2160.m3u8", 4, "/live/avc720.m3u8"},
		{"av1 alone falls back to avc", "#EXTM3U\n" + v(9, av1, "", "av1.m3u8") + v(5, avc, "", "avc.m3u8"), "/live/av1.m3u8", 1, "/live/avc.m3u8"},
		{"avc never sent to av1", "#EXTM3U\n" + v(9, avc, "", "avc.m3u8") + v(5, av1, "", "av1.m3u8"), "/live/avc.m3u8", 1, ""},
		{"avc never sent to hdr avc", "#EXTM3U\n" + v(9, avc, "", "a.m3u8") + v(5, avc, ",VIDEO-RANGE=PQ", "pq.m3u8"), "/live/a.m3u8", 1, ""},
		{"unknown codecs go anywhere", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=9\nx.m3u8\n" + v(5, av1, "", "av1.m3u8"), "/live/x.m3u8", 1, "/live/av1.m3u8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLadder(t, tc.master)
			got, ok := l.Substitute(tc.path, tc.k)
			if got != tc.want || ok != (tc.want != "") {
				t.Errorf("Substitute(%q, %d) = %q, %v; want %q", tc.path, tc.k, got, ok, tc.want)
			}
		})
	}
}

func TestNewLadderErrors(t *testing.T) {
	for _, tc := range []struct {
		name, path, body string
		want             error
	}{
		{"relative master path", "live/master.m3u8", master4, ErrMasterPath},
		{"empty master path", "", master4, ErrMasterPath},
		{"media playlist", "/live/master.m3u8", llMedia, hls.ErrSyntax},
		{"not a playlist", "/live/master.m3u8", "<html>", hls.ErrSyntax},
		{"too large", "/live/master.m3u8", "#EXTM3U\n" + strings.Repeat("#", hls.MaxSize), hls.ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewLadder(tc.path, []byte(tc.body))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), "new ladder") {
				t.Errorf("err %q lacks its context", err)
			}
		})
	}
}

// TestLadderConcurrent has many requests share one Ladder, as the
// admission stage does, for the race detector; everyone gets the same
// memoized bytes.
func TestLadderConcurrent(t *testing.T) {
	l := newLadder(t, master4)
	want := make([][]byte, 5)
	for k := range want {
		want[k] = []byte(newLadder(t, master4).Drop(k))
	}
	got := make([][][]byte, 8)
	var wg sync.WaitGroup
	for g := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				k := (g + i) % 5
				got[g] = append(got[g], l.Drop(k))
				l.Substitute("/live/1080p/index.m3u8", k)
			}
		}()
	}
	wg.Wait()
	for g := range got {
		for i, b := range got[g] {
			k := (g + i) % 5
			if !bytes.Equal(b, want[k]) || &b[0] != &l.Drop(k)[0] {
				t.Fatalf("goroutine %d call %d: Drop(%d) differs or is not the memoized slice", g, i, k)
			}
		}
	}
}

func TestLadderAllocs(t *testing.T) {
	l := newLadder(t, master4)
	l.Drop(2)
	if n := testing.AllocsPerRun(100, func() { l.Drop(2) }); n != 0 {
		t.Errorf("memoized Drop allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { l.Substitute("/live/1080p/index.m3u8", 2) }); n != 0 {
		t.Errorf("Substitute allocates %v times", n)
	}
}
