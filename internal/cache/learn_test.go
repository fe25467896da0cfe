package cache

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
)

// TestLearnerSeesPlaylists: every playlist the cache stores or revalidates
// reaches the Learner before its requester is answered; nothing else does.
func TestLearnerSeesPlaylists(t *testing.T) {
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/live/index.m3u8":
			w.Header().Set("ETag", `"v1"`)
			w.Header().Set("Cache-Control", "max-age=1")
			if r.Header.Get("If-None-Match") == `"v1"` {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			_, _ = w.Write([]byte(playlist))
		case "/live/seg1.ts":
			_, _ = w.Write([]byte("segment"))
		default:
			http.NotFound(w, r)
		}
	}, defaultOpts())
	var mu sync.Mutex
	var learned []string
	e.h.Learner = func(path string, body []byte) {
		mu.Lock()
		defer mu.Unlock()
		learned = append(learned, path+" "+string(body[:7]))
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(learned) }
	if r := e.do(http.MethodGet, "/live/index.m3u8", telemetry.ClassMedia); r.code != 200 || count() != 1 {
		t.Fatalf("first fetch: status %d, learned %v", r.code, learned)
	}
	if learned[0] != "/live/index.m3u8 #EXTM3U" {
		t.Errorf("learned %q", learned[0])
	}
	e.do(http.MethodGet, "/live/seg1.ts", telemetry.ClassSegment)
	e.do(http.MethodGet, "/live/gone.m3u8", telemetry.ClassMedia)
	if count() != 1 {
		t.Fatalf("segments and 404s are not playlists to learn: %v", learned)
	}
	e.clock.Advance(5 * time.Second) // stale: a revalidation answered 304
	e.do(http.MethodGet, "/live/index.m3u8", telemetry.ClassMedia)
	waitFor(t, "the revalidated playlist learned again", func() bool { return count() == 2 })
}
