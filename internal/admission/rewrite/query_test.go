package rewrite

import (
	"bytes"
	"strings"
	"testing"
)

const (
	param = "rempart_session"
	token = "v1.AbC-_9"
)

func TestAddQueryURILines(t *testing.T) {
	const head = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\n"
	for _, tc := range []struct {
		name, uri, want string
	}{
		{"relative", "seg1.ts", "seg1.ts?rempart_session=v1.AbC-_9"},
		{"relative dir", "../720p/seg1.ts", "../720p/seg1.ts?rempart_session=v1.AbC-_9"},
		{"absolute path", "/live/seg1.ts", "/live/seg1.ts?rempart_session=v1.AbC-_9"},
		{"existing query", "seg1.ts?cdn=a", "seg1.ts?cdn=a&rempart_session=v1.AbC-_9"},
		{"empty query", "seg1.ts?", "seg1.ts?rempart_session=v1.AbC-_9"},
		{"trailing ampersand", "seg1.ts?a=1&", "seg1.ts?a=1&rempart_session=v1.AbC-_9"},
		{"replaces the value", "seg1.ts?rempart_session=old&a=1", "seg1.ts?rempart_session=v1.AbC-_9&a=1"},
		{"replaces a bare key", "seg1.ts?a=1&rempart_session", "seg1.ts?a=1&rempart_session=v1.AbC-_9"},
		{"drops repeats", "s.ts?rempart_session=1&a=1&rempart_session=2&b&rempart_session=3",
			"s.ts?rempart_session=v1.AbC-_9&a=1&b"},
		{"escaped key", "s.ts?rempart%5Fsession=1&a=1", "s.ts?rempart_session=v1.AbC-_9&a=1"},
		{"query of a question mark", "s.ts??", "s.ts??&rempart_session=v1.AbC-_9"},
		{"keeps empty pairs", "s.ts?a=1&&b=2", "s.ts?a=1&&b=2&rempart_session=v1.AbC-_9"},
		{"similar key kept", "s.ts?rempart_session2=x", "s.ts?rempart_session2=x&rempart_session=v1.AbC-_9"},
		{"fragment", "s.ts?a=1#t=10", "s.ts?a=1&rempart_session=v1.AbC-_9#t=10"},
		{"question mark in fragment", "s.ts#x?y", "s.ts?rempart_session=v1.AbC-_9#x?y"},
		{"variable after the first segment", "v/seg{$n}.ts", "v/seg{$n}.ts?rempart_session=v1.AbC-_9"},
		{"variable in the first segment untouched", "seg{$n}.ts", "seg{$n}.ts"}, // {$n} may hold "://host"
		{"spaces kept around", "  seg1.ts \t", "  seg1.ts?rempart_session=v1.AbC-_9 \t"},
		{"https untouched", "https://cdn.example/seg1.ts", "https://cdn.example/seg1.ts"},
		{"http untouched", "http://edge/seg1.ts", "http://edge/seg1.ts"},
		{"network path untouched", "//cdn.example/seg1.ts", "//cdn.example/seg1.ts"},
		{"backslashes untouched", `\\cdn.example/seg1.ts`, `\\cdn.example/seg1.ts`},
		{"slash backslash untouched", `/\cdn.example/seg1.ts`, `/\cdn.example/seg1.ts`},
		{"variable host untouched", "{$base}/seg1.ts", "{$base}/seg1.ts"},
		{"variable after slash untouched", "/{$base}/seg1.ts", "/{$base}/seg1.ts"},
		{"control char untouched", "/\x0b/cdn.example/seg1.ts", "/\x0b/cdn.example/seg1.ts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := head + tc.uri + "\n"
			got := string(AddQuery([]byte(in), param, token))
			if want := head + tc.want + "\n"; got != want {
				t.Errorf("got\n%q\nwant\n%q", got, want)
			}
		})
	}
}

func TestAddQueryTags(t *testing.T) {
	const q = "rempart_session=v1.AbC-_9"
	for _, tc := range []struct {
		name, line, want string
	}{
		{"map", `#EXT-X-MAP:URI="init.mp4"`, `#EXT-X-MAP:URI="init.mp4?` + q + `"`},
		{"map with byterange", `#EXT-X-MAP:URI="main.mp4",BYTERANGE="720@0"`, `#EXT-X-MAP:URI="main.mp4?` + q + `",BYTERANGE="720@0"`},
		{"key", `#EXT-X-KEY:METHOD=AES-128,URI="k/1.key?kid=1",IV=0x1`, `#EXT-X-KEY:METHOD=AES-128,URI="k/1.key?kid=1&` + q + `",IV=0x1`},
		{"key none", `#EXT-X-KEY:METHOD=NONE`, `#EXT-X-KEY:METHOD=NONE`},
		{"fairplay key untouched", `#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://key42",KEYFORMAT="com.apple.streamingkeydelivery"`,
			`#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://key42",KEYFORMAT="com.apple.streamingkeydelivery"`},
		{"data key untouched", `#EXT-X-KEY:METHOD=SAMPLE-AES,URI="data:text/plain;base64,AAAA"`,
			`#EXT-X-KEY:METHOD=SAMPLE-AES,URI="data:text/plain;base64,AAAA"`},
		{"part", `#EXT-X-PART:DURATION=0.33334,URI="p.0.mp4",INDEPENDENT=YES`, `#EXT-X-PART:DURATION=0.33334,URI="p.0.mp4?` + q + `",INDEPENDENT=YES`},
		{"preload hint", `#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p.1.mp4"`, `#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p.1.mp4?` + q + `"`},
		{"rendition report", `#EXT-X-RENDITION-REPORT:URI="../1M/i.m3u8",LAST-MSN=273`, `#EXT-X-RENDITION-REPORT:URI="../1M/i.m3u8?` + q + `",LAST-MSN=273`},
		{"media", `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="x, y",URI="a/fr.m3u8"`, `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="x, y",URI="a/fr.m3u8?` + q + `"`},
		{"media without uri", `#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc",NAME="cc",INSTREAM-ID="CC1"`, `#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc",NAME="cc",INSTREAM-ID="CC1"`},
		{"i-frame", `#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=1,URI="i.m3u8"`, `#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=1,URI="i.m3u8?` + q + `"`},
		{"session data", `#EXT-X-SESSION-DATA:DATA-ID="d",URI="d.json"`, `#EXT-X-SESSION-DATA:DATA-ID="d",URI="d.json?` + q + `"`},
		{"session key", `#EXT-X-SESSION-KEY:METHOD=AES-128,URI="/k.key"`, `#EXT-X-SESSION-KEY:METHOD=AES-128,URI="/k.key?` + q + `"`},
		{"steering", `#EXT-X-CONTENT-STEERING:SERVER-URI="s.json"`, `#EXT-X-CONTENT-STEERING:SERVER-URI="s.json?` + q + `"`},
		{"interstitial", `#EXT-X-DATERANGE:ID="ad",CLASS="com.apple.hls.interstitial",START-DATE="2024-06-01T20:00:00Z",X-ASSET-URI="ad/1.m3u8"`,
			`#EXT-X-DATERANGE:ID="ad",CLASS="com.apple.hls.interstitial",START-DATE="2024-06-01T20:00:00Z",X-ASSET-URI="ad/1.m3u8?` + q + `"`},
		{"two uris in one tag", `#EXT-X-DATERANGE:X-ASSET-LIST="l.json",ID="x",X-ASSET-URI="a.m3u8"`,
			`#EXT-X-DATERANGE:X-ASSET-LIST="l.json?` + q + `",ID="x",X-ASSET-URI="a.m3u8?` + q + `"`},
		{"unquoted uri", `#EXT-X-MAP:URI=init.mp4`, `#EXT-X-MAP:URI=init.mp4?` + q},
		{"space after comma kept", `#EXT-X-PART:DURATION=1, URI="p.mp4"`, `#EXT-X-PART:DURATION=1, URI="p.mp4?` + q + `"`},
		{"absolute url untouched", `#EXT-X-MAP:URI="https://cdn.example/init.mp4"`, `#EXT-X-MAP:URI="https://cdn.example/init.mp4"`},
		{"empty uri untouched", `#EXT-X-MAP:URI=""`, `#EXT-X-MAP:URI=""`},
		{"uri in another value untouched", `#EXT-X-SESSION-DATA:DATA-ID="d",VALUE="URI=x.ts"`, `#EXT-X-SESSION-DATA:DATA-ID="d",VALUE="URI=x.ts"`},
		{"unknown tag untouched", `#EXT-X-VENDOR:URI="v.bin"`, `#EXT-X-VENDOR:URI="v.bin"`},
		{"malformed list untouched", `#EXT-X-MAP:URI="init.mp4",`, `#EXT-X-MAP:URI="init.mp4",`},
		{"repeated uri untouched", `#EXT-X-MAP:URI="a",URI="b"`, `#EXT-X-MAP:URI="a",URI="b"`},
		{"comment untouched", `# URI="x.ts"`, `# URI="x.ts"`},
		{"no colon", `#EXT-X-MAP`, `#EXT-X-MAP`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := string(AddQuery([]byte("#EXTM3U\n"+tc.line+"\n"), param, token))
			if want := "#EXTM3U\n" + tc.want + "\n"; got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func TestAddQueryPlaylists(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"crlf kept", "#EXTM3U\r\n#EXTINF:1,\r\na.ts\r\n\r\n", "#EXTM3U\r\n#EXTINF:1,\r\na.ts?rempart_session=v1.AbC-_9\r\n\r\n"},
		{"mixed ends, no final newline", "#EXTM3U\n#EXTINF:1,\r\na.ts", "#EXTM3U\n#EXTINF:1,\r\na.ts?rempart_session=v1.AbC-_9"},
		{"blank and comment lines", "#EXTM3U\n\n# a.ts\n \t\na.ts\n", "#EXTM3U\n\n# a.ts\n \t\na.ts?rempart_session=v1.AbC-_9\n"},
		{"lone CR at the end", "#EXTM3U\na.ts\r", "#EXTM3U\na.ts?rempart_session=v1.AbC-_9\r"},
		{"CR inside a line", "#EXTM3U\na.ts\r\r\n", "#EXTM3U\na.ts\r\r\n"},
		{"not a playlist", "a.ts\n", "a.ts\n"},
		{"empty", "", ""},
		{"header only", "#EXTM3U", "#EXTM3U"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(AddQuery([]byte(tc.in), param, token)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAddQueryEscapes(t *testing.T) {
	in := []byte("#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:1,\na.ts\n")
	got := string(AddQuery(in, "my key", `a&b="c d",é`))
	want := "#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4?my+key=a%26b%3D%22c+d%22%2C%C3%A9\"\n#EXTINF:1,\na.ts?my+key=a%26b%3D%22c+d%22%2C%C3%A9\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// The escaped key is found again: no duplicate.
	if again := string(AddQuery([]byte(got), "my key", "v")); strings.Count(again, "my+key=") != 2 || !strings.Contains(again, "a.ts?my+key=v\n") {
		t.Errorf("second AddQuery:\n%s", again)
	}
}

func TestAddQueryUnchanged(t *testing.T) {
	in := []byte(media10)
	if got := AddQuery(in, "", token); &got[0] != &in[0] {
		t.Error("empty param: want the input slice back")
	}
	big := append([]byte("#EXTM3U\n"), make([]byte, 4<<20)...)
	if got := AddQuery(big, param, token); &got[0] != &big[0] {
		t.Error("oversize playlist: want the input slice back")
	}
}

func TestAddQueryFixtures(t *testing.T) {
	for name, in := range map[string]string{"master4": master4, "media10": media10, "llMedia": llMedia, "llMedia crlf": crlf(llMedia)} {
		t.Run(name, func(t *testing.T) {
			out := AddQuery([]byte(in), param, token)
			checkAddQuery(t, []byte(in), out, param, token)
		})
	}
	got := string(AddQuery([]byte(llMedia), param, token))
	for _, want := range []string{
		`#EXT-X-MAP:URI="init.mp4?v=2&rempart_session=v1.AbC-_9"`,
		"\nfileSequence267.mp4?rempart_session=v1.AbC-_9\n",
		`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="filePart268.1.mp4?rempart_session=v1.AbC-_9"`,
		`#EXT-X-RENDITION-REPORT:URI="/live/4M/index.m3u8?rempart_session=v1.AbC-_9",LAST-MSN=273,LAST-PART=1`,
		"#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.0,CAN-SKIP-UNTIL=24.0\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("LL-HLS output lacks %q:\n%s", want, got)
		}
	}
}

func TestSetParam(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/live/720p/index.m3u8", "/live/720p/index.m3u8?rempart_session=v1.AbC-_9"},
		{"/live/720p/index.m3u8?a=1&rempart_session=x", "/live/720p/index.m3u8?a=1&rempart_session=v1.AbC-_9"},
		{"https://cdn.example/720p/index.m3u8", "https://cdn.example/720p/index.m3u8"},
		{"", ""},
	} {
		if got := SetParam(tc.in, param, token); got != tc.want {
			t.Errorf("SetParam(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := SetParam("/a", "", "v"); got != "/a" {
		t.Errorf("empty param: %q", got)
	}
}

func TestIsLocal(t *testing.T) {
	for _, tc := range []struct {
		uri  string
		want bool
	}{
		{"a.ts", true}, {"720p/a.ts", true}, {"../a.ts", true}, {"./a:b.ts", true}, {"/live/a.ts", true},
		{"/", true}, {"a.ts?x=http://y", true}, {"?x=1", true}, {"\\live\\a.ts", true}, {"v/a{$n}.ts", true},
		{"", false}, {"https://h/a.ts", false}, {"HTTP://h/a.ts", false}, {"skd://k", false},
		{"data:,x", false}, {"a:b/c", false}, {"//h/a.ts", false}, {`\\h/a.ts`, false}, {`/\h/a.ts`, false},
		{`\/h/a.ts`, false}, {" //h/a.ts", false}, {"/\t/h/a.ts", false}, {"a\nb", false}, {"a\x7f", false},
		{"{$base}/a.ts", false}, {"/{$p}/a.ts", false}, {"x{$h}/a.ts", false}, {"a{$n}.ts", false},
	} {
		if got := IsLocal(tc.uri); got != tc.want {
			t.Errorf("IsLocal(%q) = %v, want %v", tc.uri, got, tc.want)
		}
	}
}

func TestAddQueryIdempotent(t *testing.T) {
	for _, in := range []string{master4, media10, llMedia, crlf(master4)} {
		once := AddQuery([]byte(in), param, token)
		if twice := AddQuery(once, param, token); !bytes.Equal(once, twice) {
			t.Errorf("AddQuery twice differs:\n%s\n%s", once, twice)
		}
	}
}
