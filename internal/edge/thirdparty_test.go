package edge_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/edge"
	"github.com/rempart/rempart/internal/testkit"
)

// soak is how long the third-party live test plays; REMPART_SOAK=3m makes
// it a soak run.
func soak(t *testing.T) time.Duration {
	if v := os.Getenv("REMPART_SOAK"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("REMPART_SOAK=%q: %v", v, err)
		}
		return d
	}
	return 20 * time.Second
}

// TestThirdPartyLiveStream: in front of a static HLS server rempart did not
// write, with a live stream from ffmpeg's own muxer, a real player (ffmpeg)
// plays through the edge without error while 1,000 concurrent viewers (some
// adding random query strings) cause one origin request per segment.
func TestThirdPartyLiveStream(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end with ffmpeg (-short)")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	entry := testkit.LiveFFmpeg(t, ctx, dir, 1, 1)
	originURL, originHits := testkit.StaticServer(t, ctx, dir)

	e := startEdge(t, quick(t, originURL), edge.Options{})
	playlist := "http://" + e.Addr() + "/" + entry
	dur := soak(t)

	var player struct {
		out []byte
		err error
	}
	played := make(chan struct{})
	go func() {
		defer close(played)
		ff := exec.CommandContext(ctx, testkit.NeedTool(t, "ffmpeg"), "-hide_banner", "-v", "error",
			"-i", playlist, "-t", fmt.Sprint(int(dur.Seconds())), "-f", "null", "-")
		player.out, player.err = ff.CombinedOutput()
	}()
	stats := crowd(t, playlist, 1000, dur)
	<-played
	if player.err != nil || len(strings.TrimSpace(string(player.out))) > 0 {
		t.Errorf("ffmpeg playing through the edge: %v\n%s", player.err, player.out)
	}
	if stats.errors.Load() > 0 || stats.segments.Load() == 0 {
		t.Errorf("viewers: %d segments, %d errors, first: %q", stats.segments.Load(), stats.errors.Load(), stats.first)
	}
	checkOnePerSegment(t, originHits())
}

func checkOnePerSegment(t *testing.T, hits map[string]int) {
	t.Helper()
	segs, playlists := 0, 0
	for path, n := range hits {
		switch {
		case strings.HasSuffix(path, ".ts"):
			segs++
			if n != 1 {
				t.Errorf("origin saw %d requests for %s, want 1", n, path)
			}
			if strings.Contains(path, "?") {
				t.Errorf("a query string reached the origin: %s", path)
			}
		case strings.HasSuffix(path, ".m3u8"):
			playlists += n
		}
	}
	if segs < 5 {
		t.Errorf("origin served only %d segments: %v", segs, hits)
	}
	t.Logf("origin: %d distinct segments (1 request each), %d playlist requests", segs, playlists)
}

type crowdStats struct {
	segments, errors atomic.Int64
	mu               sync.Mutex // guards first
	first            []string   // the first few errors, to tell what failed
}

func (st *crowdStats) fail(err error) {
	if st.errors.Add(1) <= 5 {
		st.mu.Lock()
		st.first = append(st.first, err.Error())
		st.mu.Unlock()
	}
}

// crowd runs n viewers for d, each from its own address like real
// viewers: each reloads the playlist about once per second and fetches the
// segments it has not fetched yet; a third of them add random query
// strings, as cache-busting clients would.
func crowd(t *testing.T, playlist string, n int, d time.Duration) *crowdStats {
	var st crowdStats
	var wg sync.WaitGroup
	stop := time.Now().Add(d)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := testkit.CrowdTransport(1)
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			viewer(c, playlist, i%3 == 0, stop, &st)
		}()
	}
	wg.Wait()
	return &st
}

func viewer(c *http.Client, playlist string, bust bool, stop time.Time, st *crowdStats) {
	seen := map[string]bool{}
	base := playlist[:strings.LastIndexByte(playlist, '/')+1]
	time.Sleep(time.Duration(rand.IntN(1000)) * time.Millisecond)
	for time.Now().Before(stop) {
		body, err := fetchBody(c, playlist)
		if err != nil {
			st.fail(err)
		}
		for _, l := range strings.Split(body, "\n") {
			if !strings.HasSuffix(l, ".ts") || seen[l] {
				continue
			}
			seen[l] = true
			u := base + l
			if bust {
				u += fmt.Sprintf("?cb=%d", rand.Int64())
			}
			if _, err := fetchBody(c, u); err != nil {
				st.fail(err)
			} else {
				st.segments.Add(1)
			}
		}
		time.Sleep(time.Second)
	}
}

func fetchBody(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != 200 {
		err = fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(b), err
}
