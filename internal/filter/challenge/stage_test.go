package challenge

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/rempart/rempart/internal/telemetry"
)

// serve runs r through h with a telemetry writer, as the edge does, and
// returns the response and the record.
func serve(h http.Handler, r *http.Request) (*httptest.ResponseRecorder, telemetry.Record) {
	rec := httptest.NewRecorder()
	tw := telemetry.NewWriter(rec, time.Now())
	defer tw.Release()
	h.ServeHTTP(tw, r)
	return rec, tw.Rec
}

var hiddenInput = regexp.MustCompile(`name="(challenge|return)" value="([^"]*)"`)

// pageFields returns the challenge and return fields of a challenge page.
func pageFields(t *testing.T, body string) (challenge, ret string) {
	t.Helper()
	for _, m := range hiddenInput.FindAllStringSubmatch(body, -1) {
		v := strings.ReplaceAll(m[2], "&amp;", "&")
		if m[1] == "challenge" {
			challenge = v
		} else {
			ret = v
		}
	}
	if challenge == "" {
		t.Fatalf("no challenge in the page:\n%s", body)
	}
	return challenge, ret
}

func submitForm(challenge, counter, ret string, from *http.Request) *http.Request {
	form := url.Values{"challenge": {challenge}, "counter": {counter}, "return": {ret}}
	r := httptest.NewRequest("POST", VerifyPath, strings.NewReader(form.Encode()))
	r.RemoteAddr = from.RemoteAddr
	r.Header.Set("User-Agent", from.Header.Get("User-Agent"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

func TestStageInactive(t *testing.T) {
	c := newChallenger(t, testConfig(), newClock())
	for _, active := range []func() bool{nil, func() bool { return false }} {
		s := &Stage{C: c, Active: active, Next: origin}
		res, _ := serve(s, request("GET", "/watch", home, uaChrome, "Accept: text/html"))
		if res.Code != 200 || !strings.Contains(res.Body.String(), "origin /watch") {
			t.Errorf("inactive stage answered %d %q, want the origin", res.Code, res.Body)
		}
	}
	if n := c.Stats().Issued.Load(); n != 0 {
		t.Errorf("inactive stage issued %d challenges", n)
	}
}

// TestStageScoped: with attack mode off, a client that Scoped names (its
// prefix is challenged) meets the challenge; others pass.
func TestStageScoped(t *testing.T) {
	c := newChallenger(t, testConfig(), newClock())
	other := netip.MustParseAddr("198.51.100.200")
	s := &Stage{C: c, Active: func() bool { return false }, Next: origin,
		Scoped: func(client netip.Addr) bool { return client == home }}
	from := func(client netip.Addr) http.Handler { // the identity stage's part
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			telemetry.RecordOf(w).Client = client
			s.ServeHTTP(w, r)
		})
	}
	res, _ := serve(from(home), request("GET", "/live/master.m3u8", home, uaChrome))
	if res.Code != http.StatusForbidden || !strings.Contains(res.Body.String(), `"challenge"`) {
		t.Fatalf("client of a challenged prefix: %d %q, want 403 with the challenge", res.Code, res.Body)
	}
	res, _ = serve(from(other), request("GET", "/live/master.m3u8", other, uaChrome))
	if res.Code != 200 {
		t.Fatalf("client elsewhere: %d %q, want the origin", res.Code, res.Body)
	}
}

func TestStageBrowserFlow(t *testing.T) {
	clk := newClock()
	c := newChallenger(t, testConfig(), clk)
	s := &Stage{C: c, Active: func() bool { return true }, Next: origin}
	nav := request("GET", "/watch/live?channel=2&x=1", home, uaChrome,
		"Accept: text/html,application/xhtml+xml", "Accept-Language: fr-FR,fr;q=0.9,en;q=0.8")

	res, rec := serve(s, nav)
	body := res.Body.String()
	if res.Code != 200 || res.Header().Get("Cache-Control") != "no-store" || res.Header().Get("Content-Security-Policy") != PageCSP {
		t.Fatalf("challenge page: %d, headers %v", res.Code, res.Header())
	}
	if rec.Stage != StageName || rec.Reason != "challenged" || rec.Outcome != telemetry.OutcomeRefused {
		t.Errorf("record = %s/%v/%s, want challenge/refused/challenged", rec.Stage, rec.Outcome, rec.Reason)
	}
	if !strings.Contains(body, `lang="fr"`) || !strings.Contains(body, "Un instant") {
		t.Errorf("page not in French for Accept-Language fr")
	}
	if got, want := res.Header().Get("Content-Length"), len(body); got != "" && got != itoa(want) {
		t.Errorf("Content-Length %s, body %d bytes", got, want)
	}
	ch, ret := pageFields(t, body)
	if ret != "/watch/live?channel=2&x=1" {
		t.Errorf("page returns to %q, want the requested URL", ret)
	}

	counter := Solve(ch, c.Difficulty())
	res, rec = serve(s, submitForm(ch, counter, ret, nav))
	if res.Code != http.StatusSeeOther || res.Header().Get("Location") != ret {
		t.Fatalf("verify: %d to %q, want 303 to %q (body %q)", res.Code, res.Header().Get("Location"), ret, res.Body)
	}
	if rec.Reason != "solved" {
		t.Errorf("verify recorded %q, want solved", rec.Reason)
	}
	cookies := res.Result().Cookies()
	if len(cookies) != 1 || cookies[0].Name != CookieName || !cookies[0].HttpOnly ||
		cookies[0].SameSite != http.SameSiteLaxMode || cookies[0].Path != "/" || cookies[0].Secure || cookies[0].MaxAge != 3600 {
		t.Fatalf("cookies = %+v, want one HttpOnly, SameSite=Lax, Path=/ clearance for 1h (not Secure over plain HTTP)", cookies)
	}

	// The clearance lets the browser through, page and media alike.
	for _, target := range []string{"/watch/live?channel=2&x=1", "/live/seg1.ts"} {
		r := request("GET", target, home, uaChrome, "Accept: text/html")
		r.AddCookie(cookies[0])
		if res, _ := serve(s, r); res.Code != 200 || !strings.Contains(res.Body.String(), "origin") {
			t.Errorf("with a clearance, %s answered %d %q", target, res.Code, res.Body)
		}
	}
	// Replaying the solution is refused, and sends the browser round again.
	res, rec = serve(s, submitForm(ch, counter, ret, nav))
	if res.Code != http.StatusSeeOther || rec.Reason != "replayed" || len(res.Result().Cookies()) != 0 {
		t.Errorf("replay: %d, reason %q, cookies %v; want 303 without a cookie, replayed", res.Code, rec.Reason, res.Result().Cookies())
	}
	// Shared with a bot elsewhere: refused.
	r := request("GET", "/watch", otherNet, uaChrome, "Accept: text/html")
	r.AddCookie(cookies[0])
	if res, _ := serve(s, r); res.Code != 200 || strings.Contains(res.Body.String(), "origin") {
		t.Errorf("a clearance used from another network passed")
	}
	// Expired: challenged again.
	clk.add(time.Hour)
	r = request("GET", "/watch", home, uaChrome, "Accept: text/html")
	r.AddCookie(cookies[0])
	if res, _ := serve(s, r); strings.Contains(res.Body.String(), "origin") {
		t.Errorf("an expired clearance passed")
	}

	st := c.Stats()
	if st.Issued.Load() != 3 || st.Solved.Load() != 1 || st.Replayed.Load() != 1 || st.PassedClearance.Load() != 2 {
		t.Errorf("stats: issued %d solved %d replayed %d passed %d, want 3 1 1 2",
			st.Issued.Load(), st.Solved.Load(), st.Replayed.Load(), st.PassedClearance.Load())
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestClearanceBoundToAddress: a clearance earned by one address does not
// pass its neighbours of the same /24 (or /64) with the same User-Agent
// (issue 11, hole 5); it passes the address that solved.
func TestClearanceBoundToAddress(t *testing.T) {
	for _, tt := range []struct{ solver, neighbour string }{
		{"127.0.0.1", "127.0.0.2"},
		{"2001:db8:1:2::1", "2001:db8:1:2::2"},
	} {
		t.Run(tt.solver, func(t *testing.T) {
			c := newChallenger(t, testConfig(), newClock())
			s := &Stage{C: c, Active: func() bool { return true }, Next: origin}
			solver, neighbour := netip.MustParseAddr(tt.solver), netip.MustParseAddr(tt.neighbour)
			cookie := solveFrom(t, s, solver)
			for _, tc := range []struct {
				from netip.Addr
				pass bool
			}{{neighbour, false}, {solver, true}} {
				r := request("GET", "/api/me", tc.from, uaChrome)
				r.AddCookie(cookie)
				res, _ := serve(s, r)
				if passed := res.Code == 200; passed != tc.pass {
					t.Errorf("clearance solved from %s, used from %s: %d, want passed %v", solver, tc.from, res.Code, tc.pass)
				}
			}
		})
	}
}

// solveFrom goes through the browser flow from addr and returns the
// clearance cookie it earns.
func solveFrom(t *testing.T, s *Stage, addr netip.Addr) *http.Cookie {
	t.Helper()
	nav := request("GET", "/watch", addr, uaChrome, "Accept: text/html")
	res, _ := serve(s, nav)
	ch, ret := pageFields(t, res.Body.String())
	res, _ = serve(s, submitForm(ch, Solve(ch, s.C.Difficulty()), ret, nav))
	cookies := res.Result().Cookies()
	if res.Code != http.StatusSeeOther || len(cookies) != 1 {
		t.Fatalf("verify from %s: %d, cookies %v", addr, res.Code, cookies)
	}
	return cookies[0]
}

func TestStageNonDocument(t *testing.T) {
	c := newChallenger(t, testConfig(), newClock())
	s := &Stage{C: c, Active: func() bool { return true }, Next: origin}
	tests := []struct {
		name    string
		req     *http.Request
		wantURL string
		reason  string
	}{
		{"segment from a player", request("GET", "/live/seg1.ts", home, uaChrome, "Accept: */*", "Referer: http://example.com/watch?c=1"), Prefix + "?return=%2Fwatch%3Fc%3D1", "no_clearance"},
		{"fetch with Sec-Fetch-Dest", request("GET", "/api/me", home, uaChrome, "Accept: text/html", "Sec-Fetch-Dest: empty"), Prefix, "no_clearance"},
		{"referer from another site", request("GET", "/live/a.m3u8", home, uaChrome, "Referer: https://evil.example/x"), Prefix, "no_clearance"},
		{"POST", request("POST", "/api/login", home, uaChrome, "Accept: text/html"), Prefix, "no_clearance"},
		{"bad token", request("GET", "/watch", home, uaChrome, "Accept: text/html", "Authorization: Bearer x.y.z"), Prefix, "bad_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, rec := serve(s, tt.req)
			var got struct{ Challenge string }
			if err := json.Unmarshal(res.Body.Bytes(), &got); err != nil || res.Code != 403 {
				t.Fatalf("answered %d %q, want 403 JSON", res.Code, res.Body)
			}
			if got.Challenge != tt.wantURL || rec.Reason != tt.reason || res.Header().Get("Content-Type") != "application/json" {
				t.Errorf("challenge %q reason %q, want %q %q", got.Challenge, rec.Reason, tt.wantURL, tt.reason)
			}
		})
	}
}

func TestStageToken(t *testing.T) {
	cfg := testConfig()
	cfg.TokenKeyFile = writeFile(t, t.TempDir(), "tokens", platformSecret+"\n")
	clk := newClock()
	c := newChallenger(t, cfg, clk)
	var exempt atomic.Int32
	s := &Stage{C: c, Active: func() bool { return true }, Next: origin,
		Exempt: func(_ netip.Addr, r *http.Request) bool { exempt.Add(1); return r.URL.Path == "/health" }}
	tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, &tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{Audience: jwt.ClaimStrings{TokenAudience}, ExpiresAt: jwt.NewNumericDate(clk.now().Add(time.Hour))},
		Path:             "/api/",
	}).SignedString([]byte(platformSecret))

	res, _ := serve(s, request("GET", "/api/me", home, uaChrome, "Authorization: Bearer "+tok))
	if res.Code != 200 || c.Stats().PassedToken.Load() != 1 {
		t.Errorf("valid app token: %d %q", res.Code, res.Body)
	}
	res, _ = serve(s, request("GET", "/admin", home, uaChrome, "Authorization: Bearer "+tok))
	if res.Code != 403 || res.Header().Get("WWW-Authenticate") == "" {
		t.Errorf("token out of its path scope: %d, WWW-Authenticate %q", res.Code, res.Header().Get("WWW-Authenticate"))
	}
	if res, _ := serve(s, request("GET", "/health", home, "probe")); res.Code != 200 {
		t.Errorf("exempt request: %d", res.Code)
	}
}

func TestVerifyJSON(t *testing.T) {
	c := newChallenger(t, testConfig(), newClock())
	s := &Stage{C: c, Active: func() bool { return true }, Next: origin}
	nav := request("GET", "/", home, uaChrome)
	page, _ := serve(s, request("GET", Prefix+"?return=/watch", home, uaChrome))
	ch, ret := pageFields(t, page.Body.String())
	if ret != "/watch" {
		t.Errorf("standalone page returns to %q, want /watch", ret)
	}
	post := func(body string) (*httptest.ResponseRecorder, telemetry.Record) {
		r := httptest.NewRequest("POST", VerifyPath, strings.NewReader(body))
		r.RemoteAddr = nav.RemoteAddr
		r.Header.Set("User-Agent", uaChrome)
		r.Header.Set("Content-Type", "application/json; charset=utf-8")
		return serve(s, r)
	}
	res, rec := post(`{"challenge":"` + ch + `","counter":"0000000000000000000","return":"/watch"}`)
	if res.Code != 403 || rec.Reason != "malformed" || !strings.Contains(res.Body.String(), `"error":"malformed"`) {
		t.Errorf("too long a counter: %d %s %q", res.Code, rec.Reason, res.Body)
	}
	counter := Solve(ch, c.Difficulty())
	res, _ = post(`{"challenge":"` + ch + `","counter":` + counter + `,"return":"/watch"}`)
	if res.Code != http.StatusSeeOther || res.Header().Get("Location") != "/watch" || len(res.Result().Cookies()) != 1 {
		t.Errorf("JSON solution with a numeric counter: %d %q", res.Code, res.Body)
	}
	res, _ = post(`{"challenge":`)
	if res.Code != 400 {
		t.Errorf("broken JSON: %d", res.Code)
	}
	r := httptest.NewRequest("GET", VerifyPath, nil)
	if res, _ := serve(s, r); res.Code != 405 || res.Header().Get("Allow") != "POST" {
		t.Errorf("GET verify: %d", res.Code)
	}
}

func TestSafeReturn(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/watch?c=1", "/watch?c=1"},
		{"/", "/"},
		{"/a/b%2F..%2Fc", "/a/b%2F..%2Fc"},
		{"", "/"},
		{"watch", "/"},
		{"//evil.example/x", "/"},
		{"/\\evil.example", "/"},
		{"/a\\b", "/"},
		{"https://evil.example/", "/"},
		{"javascript:alert(1)", "/"},
		{"/\t/evil.example", "/"},
		{"/a\r\nSet-Cookie: x=1", "/"},
		{"/%0d%0aSet-Cookie:x", "/%0d%0aSet-Cookie:x"}, // escaped: a path, harmless
		{Prefix + "verify", "/"},
		{"/" + strings.Repeat("a", maxReturnLen), "/"},
	}
	for _, tt := range tests {
		if got := safeReturn(tt.in); got != tt.want {
			t.Errorf("safeReturn(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestOpenRedirect submits valid solutions with hostile return URLs: the
// redirect always stays on this site.
func TestOpenRedirect(t *testing.T) {
	c := newChallenger(t, testConfig(), newClock())
	s := &Stage{C: c, Active: func() bool { return true }, Next: origin}
	for _, ret := range []string{"https://evil.example/", "//evil.example", "/\\evil.example", "/%2F%2Fevil.example", "http:/evil.example"} {
		nav := request("GET", "/", home, uaChrome, "Accept: text/html")
		page, _ := serve(s, nav)
		ch, _ := pageFields(t, page.Body.String())
		res, _ := serve(s, submitForm(ch, Solve(ch, c.Difficulty()), ret, nav))
		loc, err := url.Parse(res.Header().Get("Location"))
		if res.Code != http.StatusSeeOther || err != nil || loc.Host != "" || loc.Scheme != "" || strings.HasPrefix(loc.String(), "//") {
			t.Errorf("return %q: %d to %q, want a redirect on this site", ret, res.Code, res.Header().Get("Location"))
		}
	}
	// The page itself, served at a scheme-relative request path.
	nav := request("GET", "/", home, uaChrome, "Accept: text/html")
	nav.URL.Path = "//evil.example/x"
	page, _ := serve(s, nav)
	if _, ret := pageFields(t, page.Body.String()); ret != "/" {
		t.Errorf("page for //evil.example/x returns to %q, want /", ret)
	}
}

func TestAssets(t *testing.T) {
	c := newChallenger(t, testConfig(), newClock())
	s := &Stage{C: c, Active: func() bool { return true }, Next: origin}
	for _, name := range assetNames {
		res, _ := serve(s, request("GET", Prefix+name+"?v="+c.assetVersion, home, uaChrome))
		if res.Code != 200 || !strings.Contains(res.Header().Get("Cache-Control"), "immutable") || res.Body.Len() == 0 {
			t.Errorf("%s: %d, Cache-Control %q", name, res.Code, res.Header().Get("Cache-Control"))
		}
	}
	if res, _ := serve(s, request("GET", Prefix+"challenge.html", home, uaChrome)); res.Code != 404 {
		t.Errorf("the page template is served under %s: %d", Prefix, res.Code)
	}
}

var (
	scriptTag   = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`)
	inlineEvent = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
)

// TestPageCSP checks, without a browser, what PageCSP needs of the page:
// no inline script, event handler or style, nothing from elsewhere; and the
// no-JavaScript explanation is there.
func TestPageCSP(t *testing.T) {
	c := newChallenger(t, testConfig(), newClock())
	for _, al := range []string{"en", "fr"} {
		res, _ := serve(c, request("GET", Prefix+"?return=/x%22%3E%3Cscript%3E", home, uaChrome, "Accept-Language: "+al))
		html := res.Body.String()
		for _, m := range scriptTag.FindAllStringSubmatch(html, -1) {
			if !strings.Contains(m[1], "src=") || strings.TrimSpace(m[2]) != "" {
				t.Errorf("%s: inline script: %s", al, m[0])
			}
		}
		if m := inlineEvent.FindString(html); m != "" {
			t.Errorf("%s: inline event handler %q", al, m)
		}
		if strings.Contains(html, "style=") || strings.Contains(html, "<style") || strings.Contains(html, "//") && regexp.MustCompile(`(src|href|action)="(https?:)?//`).MatchString(html) {
			t.Errorf("%s: inline style or remote asset", al)
		}
		if !strings.Contains(html, "<noscript>") || strings.Contains(html, "<script>") {
			t.Errorf("%s: no <noscript> explanation", al)
		}
		if strings.Contains(html, "RMPRTx") {
			t.Errorf("%s: a placeholder left in the page", al)
		}
		if strings.Contains(html, `"><script>`) {
			t.Errorf("%s: the return URL is not escaped", al)
		}
	}
}

func TestPickLang(t *testing.T) {
	for _, tt := range []struct {
		header string
		want   lang
	}{
		{"", langEN}, {"fr", langFR}, {"fr-CA,en;q=0.5", langFR}, {"en-GB,fr;q=0.9", langEN},
		{"de-DE,fr;q=0.7,en;q=0.3", langFR}, {"de", langEN}, {"en;q=0.2, FR;q=0.8", langFR}, {"fr;q=0", langEN},
	} {
		if got := pickLang(tt.header); got != tt.want {
			t.Errorf("pickLang(%q) = %s, want %s", tt.header, langTags[got], langTags[tt.want])
		}
	}
}

// BenchmarkStage measures the stage as the edge runs it, behind a
// telemetry writer: off, a viewer with a clearance, a browser shown the
// page, a player refused with 403.
func BenchmarkStage(b *testing.B) {
	clk := newClock()
	c := newChallenger(b, testConfig(), clk)
	var active atomic.Bool
	s := &Stage{C: c, Active: active.Load, Next: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})}
	cleared := CookieName + "=" + signClearance(c.Keys(), home, uaChrome, clk.now().Add(time.Hour))
	for _, bc := range []struct {
		name   string
		active bool
		req    *http.Request
	}{
		{"inactive", false, request("GET", "/live/seg1.ts", home, uaChrome)},
		{"cleared", true, request("GET", "/live/seg1.ts", home, uaChrome, "Cookie: "+cleared)},
		{"page", true, request("GET", "/watch", home, uaChrome, "Accept: text/html", "Accept-Language: fr")},
		{"refused", true, request("GET", "/live/seg1.ts", home, uaChrome)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			active.Store(bc.active)
			w := discard{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				tw := telemetry.NewWriter(w, clk.now())
				tw.Rec.Client = home
				s.ServeHTTP(tw, bc.req)
				tw.Release()
			}
		})
	}
}

// discard is a ResponseWriter that keeps nothing.
type discard struct{ h http.Header }

func (d discard) Header() http.Header         { return d.h }
func (d discard) Write(p []byte) (int, error) { return len(p), nil }
func (d discard) WriteHeader(int)             {}
