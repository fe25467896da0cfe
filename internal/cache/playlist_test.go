package cache

import (
	"fmt"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
)

func TestParseTargetDuration(t *testing.T) {
	tests := []struct {
		body string
		want time.Duration
		ok   bool
	}{
		{playlist, 4 * time.Second, true},
		{"#EXTM3U\r\n#EXT-X-TARGETDURATION:6\r\n", 6 * time.Second, true},
		{"#EXT-X-TARGETDURATION:6.006", 7 * time.Second, true},
		{"#EXT-X-TARGETDURATION:2.000\n", 2 * time.Second, true},
		{"#EXT-X-TARGETDURATION:0", 0, false},
		{"#EXT-X-TARGETDURATION:-1", 0, false},
		{"#EXT-X-TARGETDURATION:abc", 0, false},
		{"#EXT-X-TARGETDURATION:99999", 0, false},
		{"x#EXT-X-TARGETDURATION:4", 0, false},
		{"#EXTM3U\n", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseTargetDuration([]byte(tt.body))
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseTargetDuration(%q) = %v, %v; want %v, %v", tt.body, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRefineClass(t *testing.T) {
	master := "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nlow.m3u8\n"
	if c := refineClass(telemetry.ClassMedia, []byte(master)); c != telemetry.ClassMaster {
		t.Errorf("master refined to %v", c)
	}
	if c := refineClass(telemetry.ClassMaster, []byte(playlist)); c != telemetry.ClassMedia {
		t.Errorf("media refined to %v", c)
	}
	if c := refineClass(telemetry.ClassSegment, []byte(master)); c != telemetry.ClassSegment {
		t.Errorf("segment refined to %v", c)
	}
}

func FuzzTargetDuration(f *testing.F) {
	for _, s := range []string{playlist, "#EXT-X-TARGETDURATION:10", "#EXT-X-TARGETDURATION:1.5\r\n", "#EXT-X-TARGETDURATION:", "#EXT-X-TARGETDURATION:.5", "\n\n#EXT-X-TARGETDURATION:3600"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		d, ok := parseTargetDuration(body)
		if !ok {
			return
		}
		if d <= 0 || d > maxTargetDuration || d%time.Second != 0 {
			t.Fatalf("parsed %v from %q", d, body)
		}
		again, ok := parseTargetDuration(fmt.Appendf(nil, "#EXT-X-TARGETDURATION:%d\n", d/time.Second))
		if !ok || again != d {
			t.Fatalf("round trip %v -> %v", d, again)
		}
	})
}

func FuzzCacheControl(f *testing.F) {
	for _, s := range []string{"max-age=60, public", `private="Set-Cookie, X", max-age=1`, "s-maxage=99999999999999999999", "no-cache,,=,", `x="unterminated`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		cc := parseCacheControl(map[string][]string{"Cache-Control": {v}})
		for _, d := range []time.Duration{cc.maxAge, cc.sMaxAge, cc.staleIfError, cc.staleWhileRevalidate} {
			if d < -1 || d > (1<<31)*time.Second {
				t.Fatalf("%q: duration %v out of range", v, d)
			}
		}
	})
}
