package cache

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/telemetry"
)

// TestStorability asks twice for one object, the second time after
// advance, and counts origin fetches: 1 means the first answer was stored
// and still fresh.
func TestStorability(t *testing.T) {
	date := newFakeClock().Now()
	tests := []struct {
		name    string
		cls     telemetry.Class
		status  int
		header  []string
		advance time.Duration
		want    int64
	}{
		{"max-age fresh", telemetry.ClassSegment, 200, []string{"Cache-Control", "max-age=10"}, 5 * time.Second, 1},
		{"max-age expired", telemetry.ClassSegment, 200, []string{"Cache-Control", "max-age=10"}, 11 * time.Second, 2},
		{"s-maxage wins", telemetry.ClassSegment, 200, []string{"Cache-Control", "max-age=100, s-maxage=2"}, 3 * time.Second, 2},
		{"age subtracted", telemetry.ClassSegment, 200, []string{"Cache-Control", "max-age=10", "Age", "8"}, 3 * time.Second, 2},
		{"expires minus date", telemetry.ClassSegment, 200, []string{"Date", date.Format(http.TimeFormat), "Expires", date.Add(10 * time.Second).Format(http.TimeFormat)}, 5 * time.Second, 1},
		{"expires past", telemetry.ClassSegment, 200, []string{"Date", date.Format(http.TimeFormat), "Expires", date.Add(10 * time.Second).Format(http.TimeFormat)}, 11 * time.Second, 2},
		{"policy ttl", telemetry.ClassSegment, 200, nil, 9 * time.Minute, 1},
		{"max ttl caps", telemetry.ClassMaster, 200, []string{"Cache-Control", "max-age=3600"}, 33 * time.Second, 2},
		{"no-cache", telemetry.ClassSegment, 200, []string{"Cache-Control", "no-cache"}, 0, 2},
		{"no-store", telemetry.ClassSegment, 200, []string{"Cache-Control", "no-store, max-age=60"}, 0, 2},
		{"private", telemetry.ClassSegment, 200, []string{"Cache-Control", "private, max-age=60"}, 0, 2},
		{"set-cookie", telemetry.ClassSegment, 200, []string{"Cache-Control", "max-age=60", "Set-Cookie", "s=1"}, 0, 2},
		{"vary cookie", telemetry.ClassSegment, 200, []string{"Cache-Control", "max-age=60", "Vary", "Cookie"}, 0, 2},
		{"vary authorization", telemetry.ClassSegment, 200, []string{"Cache-Control", "max-age=60", "Vary", "accept, authorization"}, 0, 2},
		{"vary star", telemetry.ClassSegment, 200, []string{"Cache-Control", "max-age=60", "Vary", "*"}, 0, 2},
		{"vary accept-encoding ignored", telemetry.ClassSegment, 200, []string{"Cache-Control", "max-age=60", "Vary", "Accept-Encoding"}, 0, 1},
		{"api without freshness", telemetry.ClassAPI, 200, nil, 0, 2},
		{"api with max-age", telemetry.ClassAPI, 200, []string{"Cache-Control", "max-age=5"}, time.Second, 1},
		{"302 not stored", telemetry.ClassSegment, 302, []string{"Cache-Control", "max-age=60", "Location", "/x"}, 0, 2},
		{"301 stored", telemetry.ClassSegment, 301, []string{"Location", "/x"}, 0, 1},
		{"404 negative ttl", telemetry.ClassSegment, 404, nil, 500 * time.Millisecond, 1},
		{"404 negative expired", telemetry.ClassSegment, 404, nil, 2 * time.Second, 2},
		{"410 no negative ttl", telemetry.ClassAPI, 410, []string{"Cache-Control", "max-age=60"}, 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
				for i := 0; i+1 < len(tt.header); i += 2 {
					w.Header().Add(tt.header[i], tt.header[i+1])
				}
				w.WriteHeader(tt.status)
				w.Write([]byte("body"))
			}, defaultOpts())
			first := e.do("GET", "/obj", tt.cls)
			if first.code != tt.status {
				t.Fatalf("first status %d", first.code)
			}
			e.clock.Advance(tt.advance)
			second := e.do("GET", "/obj", tt.cls)
			if second.code != tt.status || second.body != "body" {
				t.Fatalf("second: %d %q", second.code, second.body)
			}
			if got := e.fetches.Load(); got != tt.want {
				t.Fatalf("origin fetches = %d, want %d (second outcome %v %s)", got, tt.want, second.rec.Outcome, second.rec.Reason)
			}
			if tt.want == 1 && second.rec.Outcome != telemetry.OutcomeHit {
				t.Fatalf("second outcome %v, want hit", second.rec.Outcome)
			}
		})
	}
}

func TestLifetimeMediaPlaylist(t *testing.T) {
	now := newFakeClock().Now()
	pol := config.ClassDefaults[telemetry.ClassMedia]
	tests := []struct {
		name string
		cc   string
		sie  time.Duration
		want lifetime
	}{
		{"ttl under half target", "", 0, lifetime{fresh: time.Second, sie: 3 * time.Second}},
		{"origin capped by half target", "max-age=60", 0, lifetime{fresh: 2 * time.Second, sie: 2 * time.Second}},
		{"policy stale bound", "max-age=60", 10 * time.Second, lifetime{fresh: 2 * time.Second, sie: 8 * time.Second}},
		{"origin swr bounded", "max-age=60, stale-while-revalidate=30", 0, lifetime{fresh: 2 * time.Second, swr: 2 * time.Second, sie: 2 * time.Second}},
		{"must-revalidate", "max-age=60, must-revalidate", 0, lifetime{fresh: 2 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pol
			p.StaleIfError = tt.sie
			h := http.Header{}
			if tt.cc != "" {
				h.Set("Cache-Control", tt.cc)
			}
			got, ok := computeLifetime(200, h, parseCacheControl(h), &p, 4*time.Second, now)
			if !ok || got != tt.want {
				t.Fatalf("got %+v %v, want %+v", got, ok, tt.want)
			}
		})
	}
}

func TestParseCacheControl(t *testing.T) {
	h := http.Header{"Cache-Control": {`private="Set-Cookie, X", Max-Age=5`, "stale-if-error=7, s-maxage=bad"}}
	cc := parseCacheControl(h)
	if !cc.private || cc.maxAge != 5*time.Second || cc.staleIfError != 7*time.Second || cc.sMaxAge != 0 {
		t.Fatalf("%+v", cc)
	}
	if !strings.Contains(h.Get("Cache-Control"), "private") {
		t.Fatal("header modified")
	}
}
