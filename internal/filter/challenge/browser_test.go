package challenge

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/rempart/rempart/internal/browsertest"
	"github.com/rempart/rempart/internal/config"
)

// pageState is what a failed wait prints, to tell what the page saw.
var pageState = []string{
	"location.href",
	"document.title",
	"JSON.stringify(window.rempartChallenge)",
	"document.querySelector('#status') && document.querySelector('#status').textContent",
}

// challengeSite serves a Stage in attack mode in front of the origin.
func challengeSite(t *testing.T, cfg config.Challenge) (*Challenger, string) {
	t.Helper()
	c, err := New(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(&Stage{C: c, Active: func() bool { return true }, Next: origin})
	t.Cleanup(srv.Close)
	return c, srv.URL
}

func setLanguage(t *testing.T, ctx context.Context, lang string) {
	t.Helper()
	_, err := chromedp.Call(ctx, network.Enable, network.EnableParams{})
	if err == nil {
		_, err = chromedp.Call(ctx, network.SetExtraHTTPHeaders,
			network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": lang}})
	}
	if err != nil {
		t.Fatalf("set Accept-Language %s: %v", lang, err)
	}
}

func checkConsole(t *testing.T, ctx context.Context) {
	t.Helper()
	for _, m := range browsertest.Messages(ctx) {
		if strings.Contains(m, "Content Security Policy") || strings.HasPrefix(m, "exception") {
			t.Errorf("browser console: %s", m)
		}
	}
}

func artifactsDir(t *testing.T) string {
	if dir := os.Getenv("REMPART_ARTIFACTS"); dir != "" {
		return dir
	}
	return t.TempDir()
}

// TestBrowserSolves is the viewer's way through attack mode in a real
// browser: challenged, solved by the worker, back on the page asked for
// with a clearance, and not challenged again.
func TestBrowserSolves(t *testing.T) {
	if testing.Short() {
		t.Skip("headless Chromium (-short)")
	}
	cfg := config.Challenge{Difficulty: 12, MaxDifficulty: 12, ClearanceTTL: time.Hour}
	c, site := challengeSite(t, cfg)
	ctx := browsertest.New(t)
	setLanguage(t, ctx, "en-GB,en;q=0.9")

	start := time.Now()
	browsertest.Navigate(t, ctx, site+"/watch/live?channel=2")
	browsertest.WaitFor(t, ctx, "location.pathname === '/watch/live' && document.title === 'origin'", 30*time.Second, pageState...)
	t.Logf("solved at %d bits and landed %v after navigation", cfg.Difficulty, time.Since(start).Round(time.Millisecond))
	if got := browsertest.Eval[string](t, ctx, "location.search"); got != "?channel=2" {
		t.Errorf("landed with query %q, want ?channel=2", got)
	}
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{site + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	cookies := res.Cookies
	var found bool
	for _, ck := range cookies {
		if ck.Name == CookieName {
			found = true
			if !ck.HTTPOnly || ck.SameSite != network.CookieSameSiteLax || ck.Path != "/" {
				t.Errorf("clearance cookie %+v, want HttpOnly, SameSite=Lax, Path=/", ck)
			}
		}
	}
	if !found {
		t.Fatalf("no %s cookie in the browser: %+v", CookieName, cookies)
	}

	browsertest.Navigate(t, ctx, site+"/other")
	if got := browsertest.Text(t, ctx, "h1"); got != "origin /other" {
		t.Errorf("second navigation shows %q, want the origin (no challenge)", got)
	}
	st := c.Stats()
	if st.Issued.Load() != 1 || st.Solved.Load() != 1 || st.PassedClearance.Load() < 2 {
		t.Errorf("stats: issued %d, solved %d, passed %d; want 1, 1, ≥2", st.Issued.Load(), st.Solved.Load(), st.PassedClearance.Load())
	}
	checkConsole(t, ctx)
}

// TestBrowserPage screenshots the page in both languages, paused on a slow
// device, and without JavaScript. The difficulty is out of reach, so the
// page stays up.
func TestBrowserPage(t *testing.T) {
	if testing.Short() {
		t.Skip("headless Chromium (-short)")
	}
	defer func(d time.Duration) { slowAfter = d }(slowAfter)
	slowAfter = 4 * time.Second
	_, site := challengeSite(t, config.Challenge{Difficulty: 32, MaxDifficulty: 32, ClearanceTTL: time.Hour})
	ctx := browsertest.New(t)
	shots := artifactsDir(t)

	for _, tt := range []struct{ lang, heading, status string }{
		{"en", "One moment, please", "Checking your connection…"},
		{"fr", "Un instant, s’il vous plaît", "Vérification de votre connexion…"},
	} {
		t.Run(tt.lang, func(t *testing.T) {
			setLanguage(t, ctx, tt.lang)
			browsertest.Navigate(t, ctx, site+"/watch?channel=2")
			browsertest.WaitFor(t, ctx, "window.rempartChallenge.rate > 0 && window.rempartChallenge.elapsed > 1200", 10*time.Second, pageState...)
			if got := browsertest.Eval[string](t, ctx, "document.documentElement.lang"); got != tt.lang {
				t.Errorf("page language %q, want %q", got, tt.lang)
			}
			if got := browsertest.Text(t, ctx, "h1"); got != tt.heading {
				t.Errorf("heading %q, want %q", got, tt.heading)
			}
			if got := browsertest.Text(t, ctx, "#status"); !strings.HasPrefix(got, tt.status) {
				t.Errorf("status %q, want it to start with %q", got, tt.status)
			}
			t.Logf("%s: hash rate %.0f/s", tt.lang, browsertest.Eval[float64](t, ctx, "window.rempartChallenge.rate"))
			browsertest.Screenshot(t, ctx, filepath.Join(shots, "challenge-"+tt.lang+".png"))

			browsertest.WaitFor(t, ctx, "window.rempartChallenge.state === 'paused'", 10*time.Second, pageState...)
			if !browsertest.Eval[bool](t, ctx, "!document.querySelector('#slow').hidden && document.activeElement.id === 'keep'") {
				t.Errorf("paused, but the notice is hidden or its button lacks focus")
			}
			browsertest.Screenshot(t, ctx, filepath.Join(shots, "challenge-slow-"+tt.lang+".png"))
			browsertest.Eval[any](t, ctx, "document.querySelector('#keep').click()")
			browsertest.WaitFor(t, ctx, "window.rempartChallenge.state === 'working' && document.querySelector('#slow').hidden", 5*time.Second, pageState...)
			checkConsole(t, ctx)
		})
	}

	t.Run("no JavaScript", func(t *testing.T) {
		setLanguage(t, ctx, "en")
		scripts := func(off bool) {
			t.Helper()
			if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: off}); err != nil {
				t.Fatal(err)
			}
		}
		scripts(true)
		browsertest.Navigate(t, ctx, site+"/watch")
		browsertest.Screenshot(t, ctx, filepath.Join(shots, "challenge-nojs-en.png"))
		// Evaluation through the protocol still works with page scripts
		// off: ask what the visitor sees.
		if got := browsertest.Eval[string](t, ctx, "document.body.innerText"); !strings.Contains(got, "JavaScript is needed") ||
			!strings.Contains(got, "Reference:") || strings.Contains(got, "Checking your connection") {
			t.Errorf("without JavaScript the page reads:\n%s\nwant the explanation and a reference, no progress", got)
		}
		scripts(false)
	})
}
