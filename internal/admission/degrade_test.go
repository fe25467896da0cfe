package admission

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/telemetry"
)

const testMaster = `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-STREAM-INF:BANDWIDTH=3000000,RESOLUTION=1280x720,CODECS="avc1.42c01f,mp4a.40.2"
hi/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=1500000,RESOLUTION=854x480,CODECS="avc1.42c01e,mp4a.40.2"
mid/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=600000,RESOLUTION=640x360,CODECS="avc1.42c01e,mp4a.40.2"
lo/index.m3u8
#X-UNKNOWN-TAG:kept
`

const testMedia = `#EXTM3U
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:7
#EXTINF:2.0,
seg7.ts
#EXTINF:2.0,
seg8.ts
`

// playlistFixture serves testMaster at /live/master.m3u8 and testMedia
// everywhere else, with the classes the router would give.
func playlistFixture(t *testing.T, edit ...func(*config.Admission)) *fixture {
	f := newFixture(t, testConfig(0, append([]func(*config.Admission){func(a *config.Admission) {
		a.MaxEgress = 1 // Mbit/s
		a.Degrade.Hold = time.Second
	}}, edit...)...))
	f.stage.Next = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := testMedia
		if strings.HasSuffix(r.URL.Path, "master.m3u8") {
			body = testMaster
			// The cache refines the router's class from the body.
			telemetry.RecordOf(w).Class = telemetry.ClassMaster
		}
		w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
		io.WriteString(w, body)
	})
	return f
}

func (f *fixture) playlist(v *viewer, path string) reply {
	f.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("User-Agent", v.ua)
	if v.session != "" {
		req.Header.Set(SessionHeader, v.session)
	}
	// The router calls every playlist a media playlist; the cache refines.
	return f.send(v, req, telemetry.ClassMedia)
}

// pressure feeds the egress meter mbps for d, ticking the room.
func (f *fixture) pressure(mbps float64, d time.Duration) {
	for step := time.Duration(0); step < d; step += 250 * time.Millisecond {
		f.room.egress.meter.Add(int64(mbps * 1e6 / 8 / 4))
		f.tick(250 * time.Millisecond)
	}
}

func renditions(body string) []string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasSuffix(l, "index.m3u8") {
			out = append(out, strings.Split(l, "/")[0])
		}
	}
	return out
}

func TestDegradationNewcomersFirstThenEveryoneThenRestored(t *testing.T) {
	f := playlistFixture(t)
	f.tick(time.Second) // the room learns it has an egress cap
	old := newViewer("192.0.2.1")
	if got := renditions(f.playlist(old, "/live/master.m3u8").body); len(got) != 3 {
		t.Fatalf("calm: renditions %v, want all 3", got)
	}
	f.pressure(2, 1500*time.Millisecond) // twice the cap: level 1
	if lvl := f.room.egress.level(); lvl != 1 {
		t.Fatalf("level %d after pressure, want 1", lvl)
	}
	newcomer := newViewer("198.51.100.1")
	rp := f.playlist(newcomer, "/live/master.m3u8")
	if got := renditions(rp.body); strings.Join(got, ",") != "mid,lo" || !strings.Contains(rp.body, "#X-UNKNOWN-TAG:kept") {
		t.Errorf("newcomer at level 1: %v (%q), want mid,lo with the unknown tag kept", got, rp.body)
	}
	if got := renditions(f.playlist(old, "/live/master.m3u8").body); len(got) != 3 {
		t.Errorf("earlier viewer at level 1: %v, want all 3", got)
	}
	if rp := f.playlist(old, "/live/hi/index.m3u8"); rp.code != http.StatusOK {
		t.Errorf("earlier viewer's top rendition at level 1: %d, want 200", rp.code)
	}
	if rp := f.playlist(newcomer, "/live/hi/index.m3u8"); rp.code != http.StatusFound || rp.header.Get("Location") != "/live/mid/index.m3u8" {
		t.Errorf("newcomer's top rendition at level 1: %d → %q, want 302 to /live/mid/index.m3u8", rp.code, rp.header.Get("Location"))
	}
	f.pressure(2, 1200*time.Millisecond) // level 2: everyone loses the top
	if rp := f.playlist(old, "/live/hi/index.m3u8"); rp.code != http.StatusFound {
		t.Errorf("earlier viewer's top rendition at level 2: %d, want 302", rp.code)
	}
	if got := renditions(f.playlist(newcomer, "/live/master.m3u8").body); strings.Join(got, ",") != "mid,lo" {
		t.Errorf("newcomer at level 2: %v, want mid,lo", got)
	}
	// Between low (0.7) and high (0.9), once the meter's window has
	// caught up: the level holds.
	f.pressure(0.8, 1500*time.Millisecond)
	held := f.room.egress.level()
	f.pressure(0.8, 4*time.Second)
	if lvl := f.room.egress.level(); lvl != held || lvl < 2 {
		t.Errorf("level %d between the thresholds, want it held at %d (hysteresis)", lvl, held)
	}
	f.pressure(0.2, 8*time.Second) // calm again: back to 0, a step per hold
	if lvl := f.room.egress.level(); lvl != 0 {
		t.Fatalf("level %d once calm, want 0", lvl)
	}
	if got := renditions(f.playlist(newcomer, "/live/master.m3u8").body); len(got) != 3 {
		t.Errorf("restored: %v, want all 3", got)
	}
	if rp := f.playlist(old, "/live/hi/index.m3u8"); rp.code != http.StatusOK {
		t.Errorf("top rendition once restored: %d, want 200", rp.code)
	}
}

func TestQuerySessionCarriedByPlaylists(t *testing.T) {
	f := playlistFixture(t)
	v := newViewer("192.0.2.1")
	f.playlist(v, "/live/master.m3u8") // admitted: v.session set from the header
	tok := v.session
	v.session = ""
	req := httptest.NewRequest(http.MethodGet, "/live/master.m3u8?"+SessionQuery+"="+tok, nil)
	req.Header.Set("User-Agent", v.ua)
	rp := f.send(v, req, telemetry.ClassMedia)
	if rp.code != http.StatusOK || !strings.Contains(rp.body, "hi/index.m3u8?"+SessionQuery+"="+tok) {
		t.Fatalf("master with a query session: %d %q, want every URI to carry it", rp.code, rp.body)
	}
	req = httptest.NewRequest(http.MethodGet, "/live/hi/index.m3u8?"+SessionQuery+"="+tok, nil)
	req.Header.Set("User-Agent", v.ua)
	rp = f.send(v, req, telemetry.ClassMedia)
	if !strings.Contains(rp.body, "seg7.ts?"+SessionQuery+"="+tok) || rp.header.Get("Content-Length") != itoa(len(rp.body)) {
		t.Errorf("media playlist with a query session: %q (Content-Length %s)", rp.body, rp.header.Get("Content-Length"))
	}
	if n := f.room.ses.count(); n != 1 {
		t.Errorf("%d sessions, want 1 (the query session is the same)", n)
	}
}

// TestDegradationMovesPlayersThatLoadedTheMasterInCalm: a player that
// fetched the master before any degradation (no newcomer since) is still
// redirected off a dropped rendition once everyone loses it.
func TestDegradationMovesPlayersThatLoadedTheMasterInCalm(t *testing.T) {
	f := playlistFixture(t)
	f.tick(time.Second)
	v := newViewer("192.0.2.1")
	f.playlist(v, "/live/master.m3u8")
	f.pressure(2, 2700*time.Millisecond) // level 2: everyone drops the top
	if lvl := f.room.egress.level(); lvl < 2 {
		t.Fatalf("level %d, want 2", lvl)
	}
	if rp := f.playlist(v, "/live/hi/index.m3u8"); rp.code != http.StatusFound || rp.header.Get("Location") != "/live/mid/index.m3u8" {
		t.Errorf("top rendition at level 2: %d → %q, want 302 to /live/mid/index.m3u8", rp.code, rp.header.Get("Location"))
	}
}
