package edge_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

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
