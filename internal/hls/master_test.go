package hls

import (
	"errors"
	"strings"
	"testing"
)

const synthMaster = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n" +
	"#EXT-X-STREAM-INF:BANDWIDTH=420000,AVERAGE-BANDWIDTH=380000,RESOLUTION=426x240,CODECS=\"avc1.42c015,mp4a.40.2\",FRAME-RATE=25.000\n240p/index.m3u8\n" +
	"#EXT-X-STREAM-INF:BANDWIDTH=850000,AVERAGE-BANDWIDTH=790000,RESOLUTION=640x360,CODECS=\"avc1.42c01e,mp4a.40.2\",FRAME-RATE=25.000\n360p/index.m3u8\n" +
	"#EXT-X-STREAM-INF:BANDWIDTH=1400000,AVERAGE-BANDWIDTH=1300000,RESOLUTION=854x480,CODECS=\"avc1.42c01f,mp4a.40.2\",FRAME-RATE=25.000\n480p/index.m3u8\n"

func TestParseMaster(t *testing.T) {
	m, err := ParseMaster([]byte(synthMaster))
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != 3 || !m.Independent || len(m.Variants) != 3 {
		t.Fatalf("master %+v", m)
	}
	v := m.Variants[1]
	if v.Bandwidth != 850000 || v.AverageBandwidth != 790000 || v.Width != 640 || v.Height != 360 ||
		v.Codecs != "avc1.42c01e,mp4a.40.2" || v.FrameRate != 25 || v.URI != "360p/index.m3u8" {
		t.Errorf("variant %+v", v)
	}
	if got := string(m.Encode()); got != synthMaster {
		t.Errorf("Encode changed the playlist:\n%s", got)
	}
}

func TestMasterRewrite(t *testing.T) {
	in := strings.ReplaceAll(synthMaster, "\n", "\r\n") + "#EXT-X-UNKNOWN:KEEP=1"
	m, err := ParseMaster([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Encode()) != in {
		t.Fatal("CRLF playlist not encoded byte for byte")
	}
	m.Variants = m.Variants[:1] // drop the two higher renditions
	m.Variants[0].URI = "240p/index.m3u8?token=abc"
	got := string(m.Encode())
	want := "#EXTM3U\r\n#EXT-X-VERSION:3\r\n#EXT-X-INDEPENDENT-SEGMENTS\r\n" +
		"#EXT-X-STREAM-INF:BANDWIDTH=420000,AVERAGE-BANDWIDTH=380000,RESOLUTION=426x240,CODECS=\"avc1.42c015,mp4a.40.2\",FRAME-RATE=25.000\r\n" +
		"240p/index.m3u8?token=abc\r\n#EXT-X-UNKNOWN:KEEP=1"
	if got != want {
		t.Errorf("rewrite:\n%q\nwant\n%q", got, want)
	}
	again, err := ParseMaster([]byte(got))
	if err != nil || len(again.Variants) != 1 || again.Variants[0].URI != "240p/index.m3u8?token=abc" {
		t.Errorf("reparse: %v %+v", err, again)
	}
}

func TestParseMasterErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		line     int
		msg      string
	}{
		{"no header", "#EXT-X-VERSION:3\n", 1, "#EXTM3U"},
		{"bom", "\ufeff#EXTM3U\n", 1, "#EXTM3U"},
		{"no bandwidth", "#EXTM3U\n#EXT-X-STREAM-INF:RESOLUTION=1x1\na.m3u8\n", 2, "BANDWIDTH is required"},
		{"zero bandwidth", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=0\na.m3u8\n", 2, "BANDWIDTH"},
		{"bad resolution", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=big\na.m3u8\n", 2, "resolution"},
		{"no uri", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n", 2, "no URI"},
		{"two infs", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n#EXT-X-STREAM-INF:BANDWIDTH=2\nb\n", 3, "previous"},
		{"stray uri", "#EXTM3U\na.m3u8\n", 2, "without #EXT-X-STREAM-INF"},
		{"media tag", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\na\n#EXTINF:1,\n", 4, "media playlist tag #EXTINF"},
		{"bad version", "#EXTM3U\n#EXT-X-VERSION:x\n", 2, "VERSION"},
		{"quoted comma unterminated", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=\"a,b\nx\n", 2, "closing quote"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseMaster([]byte(tc.in))
			var se *SyntaxError
			if !errors.As(err, &se) || !errors.Is(err, ErrSyntax) {
				t.Fatalf("err = %v, want a SyntaxError", err)
			}
			if se.Line != tc.line || !strings.Contains(se.Msg, tc.msg) {
				t.Errorf("err = %v, want line %d mentioning %q", err, tc.line, tc.msg)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	big := make([]byte, MaxSize+1)
	if _, err := ParseMaster(big); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversize: %v", err)
	}
	many := "#EXTM3U\n" + strings.Repeat("\n", MaxLines)
	if _, err := ParseMedia([]byte(many)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("too many lines: %v", err)
	}
	if _, err := Parse(nil); !errors.Is(err, ErrSyntax) {
		t.Errorf("empty: %v", err)
	}
}
