package edge_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/edge"
)

// TestUnlistedSegmentsNeverReachTheOrigin: once the edge has cached a live
// playlist, a segment in its place that no playlist lists is answered 404
// by the edge; listed ones, the next one to come, and other places go on.
func TestUnlistedSegmentsNeverReachTheOrigin(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/live/index.m3u8":
			w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
			w.Header().Set("Cache-Control", "max-age=1")
			fmt.Fprint(w, "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n#EXTINF:2,\nseg7.ts\n#EXTINF:2,\nseg8.ts\n")
		case strings.HasSuffix(r.URL.Path, ".ts"):
			w.Header().Set("Content-Type", "video/mp2t")
			fmt.Fprint(w, "segment bytes")
		default:
			http.NotFound(w, r)
		}
	})
	e := startEdge(t, quick(t, o.URL), edge.Options{})
	base := "http://" + e.Addr()
	c := &http.Client{}
	if code, _, _ := get(t, c, base+"/live/x1.ts"); code != http.StatusOK {
		t.Fatalf("before any playlist the edge cannot judge: got %d", code)
	}
	if code, _, _ := get(t, c, base+"/live/index.m3u8"); code != http.StatusOK {
		t.Fatalf("playlist: %d", code)
	}
	before := o.all.Load()
	for i := 0; i < 50; i++ {
		code, body, _ := get(t, c, fmt.Sprintf("%s/live/x%d.ts?cb=%d", base, 1000+i, i))
		if code != http.StatusNotFound || !strings.Contains(body, "no playlist") {
			t.Fatalf("unlisted segment: %d %q", code, body)
		}
	}
	if n := o.all.Load() - before; n != 0 {
		t.Fatalf("%d unlisted segments reached the origin", n)
	}
	for _, p := range []string{"/live/seg7.ts", "/live/seg8.ts", "/live/seg9.ts", "/vod/x1.ts"} {
		if code, _, _ := get(t, c, base+p); code != http.StatusOK {
			t.Errorf("%s: %d, want 200", p, code)
		}
	}
	if m := scrape(t, e); metricLine(m, `rempart_stream_refused_total{site="default"} 50`) == "" {
		t.Errorf("unlisted refusals are not in the metrics:\n%s", metricLine(m, "rempart_stream_refused_total"))
	}
}

// TestUnwatchedRenditionIsFetchedByTheEdge: in a flat layout whose master
// lists two renditions, players here fetched only one; unknown names in
// that directory make the edge fetch the other rendition's playlist
// itself, and from then on they are refused without reaching the origin.
func TestUnwatchedRenditionIsFetchedByTheEdge(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=1")
		switch r.URL.Path {
		case "/master.m3u8":
			fmt.Fprint(w, "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=500000\nlow.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=900000\nhigh.m3u8\n")
		case "/low.m3u8", "/high.m3u8":
			n := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), ".m3u8")
			fmt.Fprintf(w, "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:3\n#EXTINF:2,\n%s3.ts\n#EXTINF:2,\n%s4.ts\n", n, n)
		case "/low3.ts", "/low4.ts", "/high3.ts", "/high4.ts":
			fmt.Fprint(w, "segment")
		default:
			http.NotFound(w, r)
		}
	})
	e := startEdge(t, quick(t, o.URL), edge.Options{})
	base := "http://" + e.Addr()
	c := &http.Client{}
	get(t, c, base+"/master.m3u8")
	get(t, c, base+"/low.m3u8")
	refused := 0
	deadline := time.Now().Add(5 * time.Second)
	for i := 0; refused < 20 && time.Now().Before(deadline); i++ {
		if code, body, _ := get(t, c, fmt.Sprintf("%s/x%d.ts", base, i)); code == http.StatusNotFound && strings.Contains(body, "no playlist") {
			refused++
		}
		time.Sleep(5 * time.Millisecond)
	}
	if refused < 20 {
		t.Fatalf("unknown names beside an unwatched rendition are still sent to the origin")
	}
	if n := o.count("/high.m3u8"); n < 1 || n > 3 {
		t.Errorf("the unwatched rendition's playlist was fetched %d times, want 1 to 3", n)
	}
	if m := scrape(t, e); metricLine(m, `rempart_stream_prefetch_total{result="queued"}`) == "" {
		t.Error("the edge's own playlist fetches are not in the metrics")
	}
	if code, _, _ := get(t, c, base+"/high4.ts"); code == http.StatusNotFound {
		t.Error("a segment of the unwatched rendition is refused: a player sent here by a balancer would stall")
	}
}
