package hls

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const synthMedia = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:1700000000\n" +
	"#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:20.000Z\n" +
	"#EXTINF:1.000,\n1700000000.ts\n#EXTINF:1.000,\n1700000001.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:0.960,title, with comma\n1700000002.ts\n"

func TestParseMedia(t *testing.T) {
	p, err := ParseMedia([]byte(synthMedia))
	if err != nil {
		t.Fatal(err)
	}
	if p.TargetDuration != time.Second || p.MediaSequence != 1700000000 || p.EndList || len(p.Segments) != 3 {
		t.Fatalf("media %+v", p)
	}
	s := p.Last()
	if s.Seq != 1700000002 || s.Duration != 960*time.Millisecond || !s.Discontinuity ||
		s.URI != "1700000002.ts" || s.Title != "title, with comma" || p.Segments[0].Discontinuity {
		t.Errorf("last segment %+v", s)
	}
	if string(p.Encode()) != synthMedia {
		t.Error("Encode changed the playlist")
	}
	p.Segments[0].URI = "1700000000.ts?t=1"
	if got := string(p.Encode()); !strings.Contains(got, "\n1700000000.ts?t=1\n#EXTINF") {
		t.Errorf("URI rewrite:\n%s", got)
	}
}

const llMedia = `#EXTM3U
#EXT-X-VERSION:9
#EXT-X-TARGETDURATION:4
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.0,CAN-SKIP-UNTIL=24.0
#EXT-X-PART-INF:PART-TARGET=0.33334
#EXT-X-MEDIA-SEQUENCE:266
#EXT-X-MAP:URI="init.mp4"
#EXTINF:4.00008,
fileSequence266.mp4
#EXT-X-PART:DURATION=0.33334,URI="filePart267.0.mp4",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.33334,URI="filePart267.1.mp4"
#EXTINF:0.66668,
fileSequence267.mp4
#EXT-X-PART:DURATION=0.33334,URI="filePart268.0.mp4",INDEPENDENT=YES
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="filePart268.1.mp4"
#EXT-X-RENDITION-REPORT:URI="../1M/waitForMSN.php",LAST-MSN=273,LAST-PART=2
`

func TestParseLowLatency(t *testing.T) {
	p, err := ParseMedia([]byte(llMedia))
	if err != nil {
		t.Fatal(err)
	}
	if p.PartTarget != 333340*time.Microsecond || len(p.Segments) != 2 || len(p.Segments[1].Parts) != 2 ||
		!p.Segments[1].Parts[0].Independent || len(p.Pending) != 1 || p.Pending[0].URI != "filePart268.0.mp4" {
		t.Fatalf("low-latency media %+v", p)
	}
	if v, _ := p.ServerControl.Get("CAN-BLOCK-RELOAD"); v != "YES" {
		t.Errorf("server control %+v", p.ServerControl)
	}
	if v, _ := p.PreloadHint.Get("URI"); v != "filePart268.1.mp4" {
		t.Errorf("preload hint %+v", p.PreloadHint)
	}
	if string(p.Encode()) != llMedia {
		t.Error("Encode changed the LL-HLS playlist")
	}
}

func TestParseMediaErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		line     int
		msg      string
	}{
		{"no target", "#EXTM3U\n#EXTINF:1,\na.ts\n", 3, "TARGETDURATION is required"},
		{"zero target", "#EXTM3U\n#EXT-X-TARGETDURATION:0\n", 2, "positive"},
		{"bad extinf", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:abc,\na.ts\n", 3, `"abc" is not a decimal number`},
		{"negative extinf", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:-1,\na.ts\n", 3, "not a decimal"},
		{"huge extinf", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:99999999,\na.ts\n", 3, "over"},
		{"uri without extinf", "#EXTM3U\n#EXT-X-TARGETDURATION:2\na.ts\n", 3, "without #EXTINF"},
		{"extinf without uri", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:1,\n", 3, "no URI"},
		{"two extinf", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:1,\n#EXTINF:1,\na\n", 4, "previous"},
		{"late sequence", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:1,\na\n#EXT-X-MEDIA-SEQUENCE:3\n", 5, "after the first segment"},
		{"master tag", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-STREAM-INF:BANDWIDTH=1\n", 3, "master playlist tag"},
		{"part without uri", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PART:DURATION=1\n", 3, "URI is required"},
		{"bad type", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:LIVE\n", 3, "EVENT or VOD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseMedia([]byte(tc.in))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a SyntaxError", err)
			}
			if se.Line != tc.line || !strings.Contains(se.Msg, tc.msg) {
				t.Errorf("err = %v, want line %d mentioning %q", err, tc.line, tc.msg)
			}
		})
	}
}

func TestParseKind(t *testing.T) {
	if p, err := Parse([]byte(synthMaster)); err != nil {
		t.Fatal(err)
	} else if _, ok := p.(*Master); !ok {
		t.Errorf("Parse(master) = %T", p)
	}
	if p, err := Parse([]byte(synthMedia)); err != nil {
		t.Fatal(err)
	} else if _, ok := p.(*Media); !ok {
		t.Errorf("Parse(media) = %T", p)
	}
	if got := (&Media{}).Last(); got != nil {
		t.Errorf("Last of empty = %v", got)
	}
}
