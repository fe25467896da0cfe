package identity

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func browserReq() *http.Request {
	r := httptest.NewRequest("GET", "/live/master.m3u8", nil)
	r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36")
	r.Header.Set("Accept", "*/*")
	r.Header.Set("Accept-Language", "fr-FR,fr;q=0.9")
	r.Header.Set("Accept-Encoding", "gzip, deflate, br")
	r.Header.Set("Sec-Fetch-Mode", "cors")
	r.Header.Set("Sec-Ch-Ua", `"Chromium";v="126"`)
	r.Header.Set("Referer", "https://tv.example/")
	return r
}

func TestFingerprint(t *testing.T) {
	base := Fingerprint(browserReq())
	same := browserReq()
	same.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0) Chrome/127.0") // same family
	same.Header.Set("Referer", "https://other.example/x")                       // values ignored
	if got := Fingerprint(same); got != base {
		t.Fatalf("same software, different fingerprint")
	}
	for i := 0; i < 20; i++ { // map order must not matter
		if Fingerprint(browserReq()) != base {
			t.Fatal("fingerprint depends on map order")
		}
	}
	differ := map[string]func(r *http.Request){
		"curl UA":        func(r *http.Request) { r.Header.Set("User-Agent", "curl/8.5.0") },
		"no UA":          func(r *http.Request) { r.Header.Del("User-Agent") },
		"no sec-fetch":   func(r *http.Request) { r.Header.Del("Sec-Fetch-Mode") },
		"extra header":   func(r *http.Request) { r.Header.Set("X-Requested-With", "x") },
		"method":         func(r *http.Request) { r.Method = "POST" },
		"http/1.0":       func(r *http.Request) { r.ProtoMinor = 0 },
		"http/2":         func(r *http.Request) { r.ProtoMajor, r.ProtoMinor = 2, 0 },
		"cookie present": func(r *http.Request) { r.Header.Set("Cookie", "a=b") },
	}
	for name, change := range differ {
		r := browserReq()
		change(r)
		if Fingerprint(r) == base {
			t.Errorf("%s: fingerprint unchanged", name)
		}
	}
}

func TestFamilyOf(t *testing.T) {
	tests := []struct {
		ua   string
		want Family
	}{
		{"", FamilyEmpty},
		{"   ", FamilyEmpty},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5 Mobile Safari/604.1", FamilyBrowser},
		{"Mozilla/5.0 (Linux; Android 13; CUBOT X30) Chrome/126.0 Mobile Safari/537.36", FamilyBrowser},
		{"Opera/9.80 (Windows NT 6.1) Presto/2.12", FamilyBrowser},
		{"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", FamilyBot},
		{"Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/126.0 Safari/537.36", FamilyBot},
		{"AhrefsBot/7.0", FamilyBot},
		{"AppleCoreMedia/1.0.0.21F79 (iPhone; U; CPU OS 17_5 like Mac OS X; fr_fr)", FamilyApp},
		{"ExoPlayerDemo/2.19.1 (Linux; Android 14) ExoPlayerLib/2.19.1", FamilyApp},
		{"TVApp/3.2 (Linux;Android 12) ExoPlayerLib/2.18.7", FamilyApp},
		{"okhttp/4.12.0", FamilyApp},
		{"VLC/3.0.20 LibVLC/3.0.20", FamilyApp},
		{"curl/8.5.0", FamilyCurl},
		{"CURL/7.1", FamilyCurl},
		{"python-requests/2.31.0", FamilyPython},
		{"Python-urllib/3.12", FamilyPython},
		{"aiohttp/3.9", FamilyPython},
		{"Go-http-client/1.1", FamilyGo},
		{"Go-http-client/2.0", FamilyGo},
		{"Wget/1.21.4", FamilyTool},
		{"Java/17.0.2", FamilyTool},
		{"node-fetch/1.0", FamilyTool},
		{"PostmanRuntime/7.36", FamilyTool},
		{"SomethingElse/1.0", FamilyOther},
		{strings.Repeat("x", 600) + "curl/8", FamilyOther},
	}
	for _, tt := range tests {
		if got := FamilyOf(tt.ua); got != tt.want {
			t.Errorf("FamilyOf(%.60q) = %s, want %s", tt.ua, got, tt.want)
		}
	}
}

// FuzzFamilyOf checks the User-Agent classifier never panics, answers a
// valid family, and ignores ASCII case.
func FuzzFamilyOf(f *testing.F) {
	for _, s := range []string{"", "curl/8", "Mozilla/5.0 (compatible; bingbot/2.0)", "AppleCoreMedia/1.0", "\xff\xfe", "bot"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ua string) {
		got := FamilyOf(ua)
		if got >= NumFamilies {
			t.Fatalf("FamilyOf = %d", got)
		}
		if len(ua) <= maxUALen && isASCII(ua) {
			if up := FamilyOf(strings.ToUpper(ua)); up != got {
				t.Fatalf("case matters: %s vs %s", got, up)
			}
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func TestFingerprintAllocs(t *testing.T) {
	r := browserReq()
	if n := testing.AllocsPerRun(100, func() { Fingerprint(r) }); n != 0 {
		t.Fatalf("Fingerprint allocates %v times", n)
	}
}

func BenchmarkFingerprint(b *testing.B) {
	r := browserReq()
	b.ReportAllocs()
	for b.Loop() {
		Fingerprint(r)
	}
}

func BenchmarkFamilyOf(b *testing.B) {
	ua := browserReq().Header.Get("User-Agent")
	b.ReportAllocs()
	for b.Loop() {
		FamilyOf(ua)
	}
}
