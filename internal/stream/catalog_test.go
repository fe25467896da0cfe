package stream

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
)

// clock is a settable clock for tests.
type clock struct{ t time.Time }

func (c *clock) now() time.Time        { return c.t }
func (c *clock) add(d time.Duration)   { c.t = c.t.Add(d) }
func newClock() *clock                 { return &clock{t: time.Unix(1_700_000_000, 0)} }
func newTestCatalog(c *clock) *Catalog { return NewCatalog(Options{}, c.now) }
func media(seq int, names ...string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:%d\n", seq)
	for _, n := range names {
		fmt.Fprintf(&b, "#EXTINF:2.000,\n%s\n", n)
	}
	return []byte(b.String())
}

const master = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000\nlow/index.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=2000000\nhigh/index.m3u8\n"

func expect(t *testing.T, c *Catalog, path string, want telemetry.Known) {
	t.Helper()
	if got := c.Lookup(path).Known; got != want {
		t.Errorf("Lookup(%q) = %s, want %s", path, got, want)
	}
}

func TestCatalogJudgesByPlaylist(t *testing.T) {
	clk := newClock()
	c := newTestCatalog(clk)
	expect(t, c, "/live/seg_00010.ts", telemetry.KnownUnjudged) // nothing learned: cannot tell
	c.Learn("/live/index.m3u8", media(10, "seg_00010.ts", "seg_00011.ts", "/live/seg_00012.ts"))
	for _, p := range []string{"/live/seg_00010.ts", "/live/seg_00011.ts", "/live/seg_00012.ts", "/live/index.m3u8"} {
		expect(t, c, p, telemetry.KnownListed)
	}
	// the next names of the series count as listed before they are
	for _, p := range []string{"/live/seg_00013.ts", "/live/seg_00015.ts"} {
		expect(t, c, p, telemetry.KnownListed)
	}
	expect(t, c, "/live/seg_00016.ts", telemetry.KnownUnlisted)
	expect(t, c, "/live/x8812734.ts", telemetry.KnownUnlisted)
	expect(t, c, "/other/x8812734.ts", telemetry.KnownUnjudged) // not a live rendition's place
	if target := c.Lookup("/live/index.m3u8").Target; target != 2*time.Second {
		t.Errorf("target duration = %v, want 2s", target)
	}
}

func TestCatalogKeepsRemovedNamesAWhile(t *testing.T) {
	clk := newClock()
	c := newTestCatalog(clk)
	c.Learn("/live/index.m3u8", media(10, "s10.ts", "s11.ts", "s12.ts"))
	for i := 0; i < 10; i++ { // the window slides for 20 s
		clk.add(2 * time.Second)
		c.Learn("/live/index.m3u8", media(11+i, fmt.Sprintf("s%d.ts", 11+i), fmt.Sprintf("s%d.ts", 12+i), fmt.Sprintf("s%d.ts", 13+i)))
	}
	expect(t, c, "/live/s10.ts", telemetry.KnownListed) // removed 20 s ago: a lagging player may still ask
	clk.add(2 * time.Minute)
	c.Learn("/live/index.m3u8", media(30, "s30.ts", "s31.ts", "s32.ts"))
	expect(t, c, "/live/s10.ts", telemetry.KnownUnlisted)
	expect(t, c, "/live/s31.ts", telemetry.KnownListed)
}

func TestCatalogWaitsForEveryRendition(t *testing.T) {
	clk := newClock()
	c := newTestCatalog(clk)
	c.Learn("/live/master.m3u8", []byte(master))
	expect(t, c, "/live/master.m3u8", telemetry.KnownListed)
	if !c.Lookup("/live/master.m3u8").Master || c.Lookup("/live/low/index.m3u8").Master {
		t.Error("the master, and only it, is a master")
	}
	expect(t, c, "/live/low/index.m3u8", telemetry.KnownListed)
	expect(t, c, "/live/high/index.m3u8", telemetry.KnownListed)
	c.Learn("/live/low/index.m3u8", media(1, "a1.ts", "a2.ts"))
	expect(t, c, "/live/low/zz.ts", telemetry.KnownUnlisted)
	// high's playlist was never fetched here (another edge served it):
	// its place stays unjudged rather than refuse its players
	expect(t, c, "/live/high/b1.ts", telemetry.KnownUnjudged)

	// a root layout: both renditions in one directory
	c2 := newTestCatalog(clk)
	c2.Learn("/master.m3u8", []byte("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nlow.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=2\nhigh.m3u8\n"))
	c2.Learn("/low.m3u8", media(1, "low1.ts"))
	expect(t, c2, "/x123.ts", telemetry.KnownUnjudged) // high.m3u8 may list it
	c2.Learn("/high.m3u8", media(1, "high1.ts"))
	expect(t, c2, "/x123.ts", telemetry.KnownUnlisted)
	expect(t, c2, "/high1.ts", telemetry.KnownListed)
}

func TestCatalogFailsOpen(t *testing.T) {
	clk := newClock()
	c := newTestCatalog(clk)
	c.Learn("/live/a.m3u8", media(1, "a1.ts"))
	c.Learn("/live/b.m3u8", []byte("#EXTM3U\n#EXTINF:2,\n")) // broken: its segments are unknowable
	expect(t, c, "/live/b1.ts", telemetry.KnownUnjudged)
	expect(t, c, "/live/a1.ts", telemetry.KnownListed)

	small := NewCatalog(Options{MaxNames: 8, MaxPlaylists: 1, MaxPerPlaylist: 6}, clk.now)
	small.Learn("/one/p.m3u8", media(1, "1.ts"))
	small.Learn("/two/p.m3u8", media(1, "1.ts")) // past MaxPlaylists
	expect(t, small, "/two/9.ts", telemetry.KnownUnjudged)
	small.Learn("/one/p.m3u8", media(1, "1.ts", "2.ts", "3.ts")) // past MaxPerPlaylist
	expect(t, small, "/one/9.ts", telemetry.KnownUnjudged)

	full := NewCatalog(Options{MaxNames: 3}, clk.now)
	full.Learn("/live/p.m3u8", media(1, "1.ts", "2.ts", "3.ts", "4.ts"))
	expect(t, full, "/live/x.ts", telemetry.KnownUnjudged)
}

func TestCatalogPreloadHintAndParts(t *testing.T) {
	clk := newClock()
	c := newTestCatalog(clk)
	body := "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-VERSION:9\n#EXT-X-PART-INF:PART-TARGET=1.0\n" +
		"#EXT-X-MEDIA-SEQUENCE:5\n#EXTINF:4.0,\nseg5.mp4\n#EXT-X-PART:DURATION=1.0,URI=\"seg6.p0.mp4\"\n" +
		"#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"seg6.p1.mp4\"\n"
	c.Learn("/ll/index.m3u8", []byte(body))
	for _, p := range []string{"/ll/seg5.mp4", "/ll/seg6.p0.mp4", "/ll/seg6.p1.mp4"} {
		expect(t, c, p, telemetry.KnownListed)
	}
	expect(t, c, "/ll/seg9.p3.mp4", telemetry.KnownUnlisted)
}

func TestResolve(t *testing.T) {
	for _, tc := range []struct{ base, uri, want string }{
		{"/live/index.m3u8", "s1.ts", "/live/s1.ts"},
		{"/live/index.m3u8", "../v/s1.ts", "/v/s1.ts"},
		{"/live/index.m3u8", "/abs/s1.ts?token=x", "/abs/s1.ts"},
		{"/live/index.m3u8", "https://cdn.example/live/s1.ts", "/live/s1.ts"},
		{"/index.m3u8", "s1.ts", "/s1.ts"},
		{"/live/index.m3u8", "data:xyz", ""},
		{"/live/index.m3u8", "", ""},
		{"/live/index.m3u8", "../../../../etc", "/etc"},
	} {
		if got := resolve(tc.base, tc.uri); got != tc.want {
			t.Errorf("resolve(%q, %q) = %q, want %q", tc.base, tc.uri, got, tc.want)
		}
	}
}

func TestSuccessors(t *testing.T) {
	got := successors("/live/seg_00099.ts", 2)
	if strings.Join(got, " ") != "/live/seg_00100.ts /live/seg_00101.ts" {
		t.Errorf("successors = %v", got)
	}
	if got := successors("/live9/seg.ts", 2); got != nil {
		t.Errorf("a name without digits has no series, got %v", got)
	}
	if got := successors("/v/720p_9.ts", 1); got[0] != "/v/720p_10.ts" {
		t.Errorf("successors = %v", got)
	}
}

func FuzzCatalog(f *testing.F) {
	f.Add("/live/index.m3u8", string(media(1, "a.ts", "b9.ts")), "/live/b10.ts")
	f.Add("/m.m3u8", master, "/low/x.ts")
	f.Fuzz(func(t *testing.T, path, body, ask string) {
		c := NewCatalog(Options{MaxNames: 64}, nil)
		c.Learn(path, []byte(body))
		c.Lookup(ask)
		if s := c.Size(); s.Names > 64 {
			t.Fatalf("catalog holds %d names past its bound", s.Names)
		}
	})
}

func TestCatalogStale(t *testing.T) {
	clk := newClock()
	c := newTestCatalog(clk)
	c.Learn("/master.m3u8", []byte("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nlow.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=2\nhigh.m3u8\n"))
	c.Learn("/low.m3u8", media(1, "low1.ts"))
	if j := c.Lookup("/x1.ts"); !j.Waiting || j.Known != telemetry.KnownUnjudged {
		t.Fatalf("judgement %+v: want unjudged, waiting for high.m3u8", j)
	}
	if got := c.Stale("/"); len(got) != 1 || got[0] != "/high.m3u8" {
		t.Fatalf("Stale = %v, want the unwatched rendition", got)
	}
	if got := c.Stale("/"); got != nil {
		t.Fatalf("Stale again within a second = %v, want nothing", got)
	}
	c.Learn("/high.m3u8", media(1, "high1.ts"))
	clk.add(3 * time.Second) // both now older than their target duration
	if got := c.Stale("/"); len(got) != 2 {
		t.Fatalf("Stale = %v, want both renditions, unrefreshed for 3 s", got)
	}
}
