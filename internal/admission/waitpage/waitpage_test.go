package waitpage

import (
	"crypto/sha256"
	"encoding/base64"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

const nbsp, nnbsp = "\u00a0", "\u202f"

func TestRender(t *testing.T) {
	queued := View{Number: 1234, Position: 57, Wait: 150 * time.Second, RetryAfter: 3200 * time.Millisecond, Return: "/live/master.m3u8"}
	raffle := View{Number: 9, Position: 4, Raffle: true, Wait: 20 * time.Second, Return: "/live/master.m3u8"}
	pre := View{Number: 3, PreQueue: true, OpensIn: 14*time.Minute + 10*time.Second, Wait: -1, Return: "/live/master.m3u8"}
	for _, tt := range []struct {
		name, acceptLanguage string
		v                    View
		lang, l1, l2, ticket string
		pos                  string // data-pos
		more                 []string
	}{
		{"queued en", "en-GB,en;q=0.9", queued, "en",
			"You are number 57 in line", "Estimated wait: about 3" + nbsp + "minutes", "Ticket no. 1,234", "57",
			[]string{"<title>Waiting room</title>", "Keep this page open: you will be let in automatically.", "This page refreshes itself",
				`<meta http-equiv="refresh" content="4">`, `data-retry="3.2"`}},
		{"queued fr", "fr-FR,fr;q=0.9,en;q=0.5", queued, "fr",
			"Vous êtes le numéro" + nbsp + "57 dans la file", "Attente estimée" + nbsp + ": environ 3" + nbsp + "minutes", "Ticket n°" + nbsp + "1" + nnbsp + "234", "57",
			[]string{"<title>Salle d’attente</title>", "Gardez cette page ouverte" + nbsp + ": vous entrerez automatiquement.", "Cette page se recharge d’elle-même",
				`<meta http-equiv="refresh" content="4">`}},
		{"raffle en", "en", raffle, "en",
			"Places are drawn at random among everyone waiting.", "Average wait: less than a minute", "Ticket no. 9", "0",
			[]string{`<meta http-equiv="refresh" content="3">`, `data-retry="3"`}},
		{"raffle fr", "fr", raffle, "fr",
			"Les places sont tirées au sort parmi toutes les personnes qui attendent.", "Attente moyenne" + nbsp + ": moins d’une minute", "Ticket n°" + nbsp + "9", "0", nil},
		{"unknown position", "en", View{Number: 5, Wait: time.Hour}, "en",
			"Places are drawn at random among everyone waiting.", "Average wait: about 1" + nbsp + "hour", "Ticket no. 5", "0", nil},
		{"pre-queue en", "en", pre, "en",
			"The doors open in about 15" + nbsp + "minutes.",
			"Your place will be drawn at random among those who arrived before then, then it is first come, first served.", "Ticket no. 3", "0", nil},
		{"pre-queue fr", "fr", pre, "fr",
			"Les portes ouvrent dans environ 15" + nbsp + "minutes.",
			"Votre place sera tirée au sort parmi les personnes arrivées avant l’ouverture, puis ce sera premier arrivé, premier servi.", "Ticket n°" + nbsp + "3", "0", nil},
		{"unknown wait and number", "de-DE", View{Position: 2, Wait: -time.Second}, "en",
			"You are number 2 in line", "Your wait will be estimated once enough viewers have left.", "", "2", nil},
		{"unknown wait fr", "fr", View{Position: 2, Wait: -time.Second}, "fr",
			"Vous êtes le numéro" + nbsp + "2 dans la file", "Votre attente sera estimée dès que suffisamment de spectateurs seront partis.", "", "2", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := render(t, tt.acceptLanguage, tt.v)
			body := w.Body.String()
			n := doc(t, body)
			if got := attr(find(n, func(c *html.Node) bool { return c.Data == "html" })[0], "lang"); got != tt.lang {
				t.Errorf("lang=%q, want %q", got, tt.lang)
			}
			if got := w.Header().Get("Content-Language"); got != tt.lang {
				t.Errorf("Content-Language %q, want %q", got, tt.lang)
			}
			for id, want := range map[string]string{"l1": tt.l1, "l2": tt.l2, "tk": tt.ticket} {
				if got := text(byID(t, n, id)); got != want {
					t.Errorf("#%s reads %q, want %q", id, got, want)
				}
			}
			if got := attr(byID(t, n, "w"), "data-pos"); got != tt.pos {
				t.Errorf("data-pos=%q, want %q", got, tt.pos)
			}
			for _, s := range tt.more {
				if !strings.Contains(body, s) {
					t.Errorf("page lacks %q", s)
				}
			}
		})
	}
}

// TestAccessible checks the page's structure: one heading, the position
// and wait in a polite live region, a labelled progress bar.
func TestAccessible(t *testing.T) {
	n := doc(t, render(t, "en", View{Position: 3, Wait: time.Minute}).Body.String())
	if hs := find(n, func(c *html.Node) bool { return c.Data == "h1" }); len(hs) != 1 || text(hs[0]) != english.Heading {
		t.Errorf("want one h1 %q", english.Heading)
	}
	live := byID(t, n, "l1").Parent
	if attr(live, "aria-live") != "polite" || byID(t, n, "l2").Parent != live {
		t.Errorf("position and wait are not together in an aria-live=polite region")
	}
	if bar := byID(t, n, "bar"); bar.Data != "progress" || attr(bar, "aria-label") == "" {
		t.Errorf("the progress bar is a <%s> labelled %q", bar.Data, attr(bar, "aria-label"))
	}
	if len(find(n, func(c *html.Node) bool { return c.Data == "main" })) != 1 {
		t.Errorf("want one <main>")
	}
}

func TestRenderReturn(t *testing.T) {
	for _, tt := range []struct{ ret, want string }{
		{"/live/master.m3u8", "/live/master.m3u8"},
		{"/live/master.m3u8?channel=2&q=a", "/live/master.m3u8?channel=2&q=a"},
		{"", "/"},
		{"//evil.example", "/"},
		{"//evil.example/live", "/"},
		{"/\\evil.example", "/"},
		{"/live\\..\\x", "/"},
		{"/\t/evil.example", "/"},
		{"/\n/evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{" /live", "/"},
		{"https://evil.example/", "/"},
		{"live/master.m3u8", "/"},
		{"/" + strings.Repeat("a", MaxReturn), "/"},
		// A path with quotes and angle brackets stays a path, inside its
		// attribute.
		{`/live/"><script>alert(1)</script>`, `/live/"><script>alert(1)</script>`},
		{"/live/'onload='x", "/live/'onload='x"},
		{"/live/a&amp;b", "/live/a&amp;b"},
	} {
		t.Run(tt.ret, func(t *testing.T) {
			body := render(t, "en", View{Return: tt.ret, Position: 1}).Body.String()
			n := doc(t, body)
			if got := attr(byID(t, n, "w"), "data-return-url"); got != tt.want {
				t.Errorf("data-return-url=%q, want %q", got, tt.want)
			}
			if got := attr(find(byID(t, n, "again"), func(c *html.Node) bool { return c.Data == "a" })[0], "href"); got != tt.want {
				t.Errorf("start-again link to %q, want %q", got, tt.want)
			}
			handlers := find(n, func(c *html.Node) bool {
				return slices.ContainsFunc(c.Attr, func(a html.Attribute) bool { return strings.HasPrefix(a.Key, "on") })
			})
			if len(find(n, func(c *html.Node) bool { return c.Data == "script" })) != 1 || len(handlers) > 0 || strings.Contains(body, "evil") {
				t.Errorf("the return URL leaks into the page:\n%s", body)
			}
		})
	}
}

func TestSitePath(t *testing.T) {
	for in, want := range map[string]string{
		"/": "/", "/a": "/a", "/a//b": "/a//b", "/a?x=//y": "/a?x=//y", "//": "/", "/\\": "/",
		"/a\x7f": "/", "/a\x00": "/", "\\\\evil": "/", "http:/evil": "/", "/é": "/é",
	} {
		if got := sitePath(in, "/"); got != want {
			t.Errorf("sitePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHeaders(t *testing.T) {
	w := render(t, "fr", View{Position: 1, RetryAfter: 2500 * time.Millisecond})
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("status %d, want the caller's 503", w.Code)
	}
	for k, want := range map[string]string{
		"Content-Type":           "text/html; charset=utf-8",
		"Cache-Control":          "no-store",
		"Content-Language":       "fr",
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		"Retry-After":            "3",
	} {
		if got := w.Header().Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if got, want := w.Header().Get("Content-Length"), len(w.Body.String()); got != strconv.Itoa(want) {
		t.Errorf("Content-Length %s, body %d bytes", got, want)
	}

	r := httptest.NewRequest(http.MethodHead, "/live/master.m3u8", nil)
	w = httptest.NewRecorder()
	w.Header().Set("Retry-After", "7")
	Render(w, r, View{}, http.StatusTooManyRequests)
	if w.Code != http.StatusTooManyRequests || w.Body.Len() != 0 || w.Header().Get("Content-Length") == "0" {
		t.Errorf("HEAD: status %d, %d bytes of body, Content-Length %s; want 429, none, the page's",
			w.Code, w.Body.Len(), w.Header().Get("Content-Length"))
	}
	if got := w.Header().Get("Retry-After"); got != "7" {
		t.Errorf("Retry-After %q, want the caller's 7", got)
	}
}

// TestPolicy checks that the Content-Security-Policy allows exactly the
// page's inline script and style, by hash, and no other source.
func TestPolicy(t *testing.T) {
	for _, lang := range langs {
		t.Run(lang, func(t *testing.T) {
			w := render(t, lang, View{Position: 3})
			csp := w.Header().Get("Content-Security-Policy")
			n := doc(t, w.Body.String())
			scripts := find(n, func(c *html.Node) bool { return c.Data == "script" })
			styles := find(n, func(c *html.Node) bool { return c.Data == "style" })
			if len(scripts) != 1 || len(styles) != 1 {
				t.Fatalf("%d scripts and %d styles, want one of each", len(scripts), len(styles))
			}
			for _, want := range []string{
				"default-src 'none'",
				"script-src " + sha(text(scripts[0])) + ";",
				"style-src " + sha(text(styles[0])) + ";",
				"connect-src 'self'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
			} {
				if !strings.Contains(csp, want) {
					t.Errorf("policy %q lacks %q", csp, want)
				}
			}
			for _, bad := range []string{"unsafe", "http:", "https:", "*", "data:"} {
				if strings.Contains(csp, bad) {
					t.Errorf("policy %q allows %q", csp, bad)
				}
			}
			for _, el := range find(n, func(c *html.Node) bool { return attr(c, "src") != "" || c.Data == "link" || attr(c, "style") != "" }) {
				t.Errorf("<%s> loads or styles from outside the inline blocks", el.Data)
			}
		})
	}
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// maxPage is the page's budget, HTML, style and script together.
const maxPage = 8 << 10

func TestPageSize(t *testing.T) {
	long := View{Number: 1 << 40, Position: 1 << 40, Wait: 1000 * time.Hour, RetryAfter: time.Hour,
		StatusURL: DefaultStatusURL, Return: "/" + strings.Repeat("é", MaxReturn/2-1)}
	for _, lang := range langs {
		for name, v := range map[string]View{"typical": {Number: 123456, Position: 4321, Wait: 7 * time.Minute, Return: "/live/master.m3u8?channel=2"}, "long": long} {
			n := render(t, lang, v).Body.Len()
			t.Logf("%s %s: %d bytes", lang, name, n)
			if name == "typical" && n > maxPage {
				t.Errorf("%s page is %d bytes, over its %d budget", lang, n, maxPage)
			}
		}
	}
}

func TestDuration(t *testing.T) {
	for _, tt := range []struct {
		d      time.Duration
		en, fr string
	}{
		{0, "less than a minute", "moins d’une minute"},
		{-time.Minute, "less than a minute", "moins d’une minute"},
		{59 * time.Second, "less than a minute", "moins d’une minute"},
		{60 * time.Second, "about 1 minute", "environ 1 minute"},
		{89 * time.Second, "about 1 minute", "environ 1 minute"},
		{90 * time.Second, "about 2 minutes", "environ 2 minutes"},
		{9*time.Minute + 29*time.Second, "about 9 minutes", "environ 9 minutes"},
		{9*time.Minute + 30*time.Second, "about 10 minutes", "environ 10 minutes"},
		{12*time.Minute + 29*time.Second, "about 10 minutes", "environ 10 minutes"},
		{12*time.Minute + 30*time.Second, "about 15 minutes", "environ 15 minutes"},
		{57 * time.Minute, "about 55 minutes", "environ 55 minutes"},
		{58 * time.Minute, "about 1 hour", "environ 1 heure"},
		{67 * time.Minute, "about 1 hour", "environ 1 heure"},
		{68 * time.Minute, "about 1 h 15 min", "environ 1 h 15"},
		{2*time.Hour + 7*time.Minute, "about 2 hours", "environ 2 heures"},
		{2*time.Hour + 40*time.Minute, "about 2 h 45 min", "environ 2 h 45"},
	} {
		for _, c := range []struct {
			t    *texts
			want string
		}{{&english, tt.en}, {&french, tt.fr}} {
			if got := strings.ReplaceAll(c.t.duration(tt.d), nbsp, " "); got != c.want {
				t.Errorf("%v: %q, want %q", tt.d, got, c.want)
			}
		}
	}
}

func TestNumber(t *testing.T) {
	for _, tt := range []struct {
		n      int64
		en, fr string
	}{
		{0, "0", "0"}, {7, "7", "7"}, {999, "999", "999"}, {1000, "1,000", "1" + nnbsp + "000"},
		{123456, "123,456", "123" + nnbsp + "456"}, {1234567, "1,234,567", "1" + nnbsp + "234" + nnbsp + "567"},
	} {
		if got := english.number(tt.n); got != tt.en {
			t.Errorf("english.number(%d) = %q, want %q", tt.n, got, tt.en)
		}
		if got := french.number(tt.n); got != tt.fr {
			t.Errorf("french.number(%d) = %q, want %q", tt.n, got, tt.fr)
		}
	}
}

// TestTranslations checks that both languages say everything, with the
// same placeholders, and explain every refusal the protocol has.
func TestTranslations(t *testing.T) {
	reasons := []string{"", "forged_ticket", "ticket_used", "ticket_elsewhere", "forged_session", "session_ended",
		"session_elsewhere", "account_limit", "token_required", "bad_token", "token_scope"}
	en, fr := fields(english), fields(french)
	for name, e := range en {
		f := fr[name]
		if e == "" || f == "" {
			t.Errorf("%s: english %q, french %q; want both", name, e, f)
		}
		for _, ph := range []string{"{n}", "{d}", "{h}", "{m}"} {
			if strings.Contains(e, ph) != strings.Contains(f, ph) {
				t.Errorf("%s: %q and %q disagree on %s", name, e, f, ph)
			}
		}
		if strings.ContainsAny(f, "'\"") || strings.Contains(f, " :") || strings.Contains(f, " ;") || strings.Contains(f, " !") {
			t.Errorf("%s: %q: French typography wants ’ and a no-break space before : ; !", name, f)
		}
	}
	for _, tt := range []texts{english, french} {
		if got := slices.Sorted(maps.Keys(tt.Reasons)); !slices.Equal(got, slices.Sorted(slices.Values(reasons))) {
			t.Errorf("reasons %q, want %q", got, reasons)
		}
	}
}

// fields lists the texts' strings by name, reasons included.
func fields(t texts) map[string]string {
	m := map[string]string{
		"Title": t.Title, "Heading": t.Heading, "Lead": t.Lead, "Keep": t.Keep, "NoScript": t.NoScript,
		"Progress": t.Progress, "Again": t.Again, "Pos": t.Pos, "Wait": t.Wait, "Raffle": t.Raffle,
		"Mean": t.Mean, "Doors": t.Doors, "Draw": t.Draw, "Ticket": t.Ticket, "Admitted": t.Admitted,
		"Retrying": t.Retrying, "Refused": t.Refused, "Less": t.Less, "About": t.About, "Min1": t.Min1,
		"Mins": t.Mins, "Hour1": t.Hour1, "Hours": t.Hours, "HourMin": t.HourMin, "Sep": t.Sep,
	}
	for k, v := range t.Reasons {
		m["Reasons["+k+"]"] = v
	}
	return m
}

// discard is a ResponseWriter that keeps nothing, so that the benchmark
// measures Render rather than a recorder.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

func BenchmarkRender(b *testing.B) {
	for _, lang := range langs {
		b.Run(lang, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodGet, "/live/master.m3u8", nil)
			r.Header.Set("Accept-Language", lang+";q=0.9,de;q=0.5")
			v := View{Number: 123456, Position: 4321, Wait: 7 * time.Minute, RetryAfter: 3200 * time.Millisecond,
				StatusURL: DefaultStatusURL, Return: "/live/master.m3u8?channel=2"}
			w := &discard{h: make(http.Header)}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				Render(w, r, v, http.StatusServiceUnavailable)
			}
		})
	}
}
