package waitpage

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/rempart/rempart/internal/browsertest"
)

// TestBrowser is the viewer's way through the waiting room in headless
// Chromium, in both languages, and when things go wrong. One browser serves
// every subtest; each has its own room.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("headless Chromium (-short)")
	}
	ctx := browsertest.New(t)
	shots := artifactsDir(t)
	for _, tt := range []struct {
		lang, header string
		t            *texts
	}{
		{"en", "en-GB,en;q=0.9", &english},
		{"fr", "fr-FR,fr;q=0.9,en;q=0.5", &french},
	} {
		t.Run(tt.lang, func(t *testing.T) { queueThrough(t, ctx, shots, tt.lang, tt.header, tt.t) })
	}
	t.Run("backoff", func(t *testing.T) { backoff(t, ctx) })
	t.Run("refused", func(t *testing.T) { refused(t, ctx) })
	t.Run("pre-queue", func(t *testing.T) { preQueue(t, ctx, shots) })
	t.Run("narrow dark", func(t *testing.T) { narrowDark(t, ctx, shots) })
	t.Run("no JavaScript", func(t *testing.T) { noScript(t, ctx, shots) })
}

// queueThrough waits in line from 3rd to admitted: the page says where the
// viewer stands, in the viewer's language, follows the line without
// reloading, and goes to the stream once admitted.
func queueThrough(t *testing.T, ctx context.Context, shots, lang, header string, tx *texts) {
	v := View{Number: 1234, Position: 3, Wait: 150 * time.Second}
	rm := newRoom(t, ctx, "queued", v)
	setLanguage(t, ctx, header)
	start := time.Now()
	browsertest.Navigate(t, ctx, rm.url+returnPath)

	if got := browsertest.Eval[string](t, ctx, "document.documentElement.lang"); got != lang {
		t.Errorf("page language %q, want %q", got, lang)
	}
	for sel, want := range map[string]string{"title": tx.Title, "h1": tx.Heading, "#tk": fill(tx.Ticket, "n", tx.number(1234)),
		"#keep": tx.Keep, "#l1": fill(tx.Pos, "n", "3")} {
		if got := browsertest.Text(t, ctx, sel); got != want {
			t.Errorf("%s reads %q, want %q", sel, got, want)
		}
	}
	browsertest.WaitFor(t, ctx, "!document.getElementById('bar').hidden", 5*time.Second, pageState...)
	browsertest.Screenshot(t, ctx, filepath.Join(shots, "waitpage-"+lang+".png"))

	for _, next := range []View{
		{Number: 1234, Position: 2, Wait: 75 * time.Minute},
		{Number: 1234, Position: 1, Wait: 20 * time.Second},
	} {
		rm.set(func(rm *room) { rm.view = next })
		l1, l2 := tx.lines(&next)
		browsertest.WaitFor(t, ctx, shows(l1, l2), 5*time.Second, pageState...)
		if got := browsertest.Eval[[]float64](t, ctx, "[bar.value, bar.max]"); got[0] != float64(3-next.Position) || got[1] != 3 {
			t.Errorf("at position %d the progress bar is at %v of %v, want %d of 3", next.Position, got[0], got[1], 3-next.Position)
		}
	}
	checkConsole(t, ctx)

	rm.set(func(rm *room) { rm.status = "admitted" })
	browsertest.WaitFor(t, ctx, "location.pathname === '"+returnPath+"' && document.body.innerText.trim() === 'ADMITTED'", 5*time.Second, pageState...)
	checkAdmitted(t, rm, time.Since(start))
}

// checkAdmitted checks how the page got the viewer in: it loaded the stream
// again once, with the session, after polling at the pace it was told.
func checkAdmitted(t *testing.T, rm *room, elapsed time.Duration) {
	t.Helper()
	pages, polls, bad, bySession := rm.counts()
	t.Logf("admitted after %v, %d polls", elapsed.Round(time.Millisecond), polls)
	if pages != 2 || !bySession {
		t.Errorf("%d page loads (want 2: waiting, admitted); admitted page asked with the session: %v", pages, bySession)
	}
	if most := int(elapsed/(retryAfter*8/10)) + 1; polls < 3 || polls > most {
		t.Errorf("%d polls in %v, want 3 to %d (one per retry_after, jittered)", polls, elapsed, most)
	}
	if len(bad) > 0 {
		t.Errorf("polls without the ticket or the JSON Accept: %q", bad)
	}
}

// backoff: the status endpoint fails twice; the page says so, waits twice
// as long the second time, and carries on when it answers again.
func backoff(t *testing.T, ctx context.Context) {
	rm := newRoom(t, ctx, "queued", View{Number: 8, Position: 2, Wait: 30 * time.Second})
	setLanguage(t, ctx, "en")
	browsertest.Navigate(t, ctx, rm.url+returnPath)
	next := View{Number: 8, Position: 1, Wait: 10 * time.Second}
	rm.set(func(rm *room) { rm.failures, rm.view = 2, next })
	browsertest.WaitFor(t, ctx, "!msg.hidden && msg.textContent === "+jsString(english.Retrying), 5*time.Second, pageState...)
	l1, l2 := english.lines(&next)
	browsertest.WaitFor(t, ctx, shows(l1, l2)+" && msg.hidden", 10*time.Second, pageState...)
	rm.mu.Lock()
	polls := append([]time.Time(nil), rm.polls...)
	rm.mu.Unlock()
	if len(polls) < 3 {
		t.Fatalf("%d polls, want 3", len(polls))
	}
	first, second := polls[1].Sub(polls[0]), polls[2].Sub(polls[1])
	t.Logf("after failures the page waited %v then %v", first.Round(time.Millisecond), second.Round(time.Millisecond))
	if first < retryAfter || second <= first {
		t.Errorf("waited %v then %v after failures, want at least %v and growing", first, second, retryAfter)
	}
	checkConsole(t, ctx)
}

// refused: the ticket is refused; the page explains why in French, offers
// to start again, and stops polling.
func refused(t *testing.T, ctx context.Context) {
	rm := newRoom(t, ctx, "queued", View{Number: 8, Position: 5, Wait: time.Minute})
	setLanguage(t, ctx, "fr")
	browsertest.Navigate(t, ctx, rm.url+returnPath)
	rm.set(func(rm *room) { rm.status, rm.reason = "refused", "ticket_used" })
	browsertest.WaitFor(t, ctx, shows(french.Refused, french.Reasons["ticket_used"])+" && !document.getElementById('again').hidden", 5*time.Second, pageState...)
	if got := browsertest.Eval[string](t, ctx, "document.querySelector('#again a').pathname"); got != returnPath {
		t.Errorf("start again links to %q, want %q", got, returnPath)
	}
	if browsertest.Eval[bool](t, ctx, "!keep.hidden || !bar.hidden") {
		t.Errorf("refused, the page still says to keep waiting")
	}
	_, before, _, _ := rm.counts()
	time.Sleep(4 * retryAfter)
	if _, after, _, _ := rm.counts(); after != before {
		t.Errorf("refused, the page polled %d more times", after-before)
	}
	checkConsole(t, ctx)
}

// preQueue: before the doors open the page says when, and how places are
// given; then the room becomes a raffle, with no position to give.
func preQueue(t *testing.T, ctx context.Context, shots string) {
	pre := View{Number: 42, PreQueue: true, OpensIn: 14*time.Minute + 10*time.Second}
	rm := newRoom(t, ctx, "prequeue", pre)
	setLanguage(t, ctx, "fr")
	browsertest.Navigate(t, ctx, rm.url+returnPath)
	l1, l2 := french.lines(&pre)
	browsertest.WaitFor(t, ctx, shows(l1, l2), 5*time.Second, pageState...)
	browsertest.Screenshot(t, ctx, filepath.Join(shots, "waitpage-prequeue-fr.png"))

	raffle := View{Number: 42, Raffle: true, Wait: 4 * time.Minute}
	rm.set(func(rm *room) { rm.status, rm.view = "queued", raffle })
	l1, l2 = french.lines(&raffle)
	browsertest.WaitFor(t, ctx, shows(l1, l2)+" && bar.hidden", 5*time.Second, pageState...)
	checkConsole(t, ctx)
}

// narrowDark: on a 320 px wide phone in dark mode, with reduced motion, the
// page fits without scrolling sideways, in dark colours, and stays still.
func narrowDark(t *testing.T, ctx context.Context, shots string) {
	emulate(t, ctx, 320, 640, map[string]string{"prefers-color-scheme": "dark", "prefers-reduced-motion": "reduce"})
	rm := newRoom(t, ctx, "queued", View{Number: 123456, Position: 98765, Wait: 3 * time.Hour})
	setLanguage(t, ctx, "fr")
	browsertest.Navigate(t, ctx, rm.url+returnPath)
	if w := browsertest.Eval[int](t, ctx, "document.documentElement.scrollWidth"); w > 320 {
		t.Errorf("the page is %d px wide in a 320 px viewport", w)
	}
	if bg := browsertest.Eval[string](t, ctx, "getComputedStyle(document.body).backgroundColor"); bg != "rgb(14, 17, 22)" {
		t.Errorf("dark mode background %s, want the dark one", bg)
	}
	if anim := browsertest.Eval[string](t, ctx, "getComputedStyle(document.querySelector('.dot')).animationName"); anim != "none" {
		t.Errorf("with reduced motion the dot still runs animation %q", anim)
	}
	browsertest.Screenshot(t, ctx, filepath.Join(shots, "waitpage-narrow-dark-fr.png"))
	checkConsole(t, ctx)
}

// emulate sets the viewport and media features until the test ends.
func emulate(t *testing.T, ctx context.Context, w, h int64, features map[string]string) {
	t.Helper()
	var fs []*emulation.MediaFeature
	for name, value := range features {
		fs = append(fs, &emulation.MediaFeature{Name: name, Value: value})
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, h)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: fs}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		chromedp.Do(ctx, chromedp.EmulateViewport(browsertest.Width, browsertest.Height))
		chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{})
	})
}

// noScript: without JavaScript the page says it refreshes itself, does,
// and so lets the viewer in.
func noScript(t *testing.T, ctx context.Context, shots string) {
	scripts := func(off bool) error {
		_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: off})
		return err
	}
	if err := scripts(true); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { scripts(false) })
	rm := newRoom(t, ctx, "queued", View{Number: 77, Position: 4, Wait: 2 * time.Minute})
	setLanguage(t, ctx, "en")
	browsertest.Navigate(t, ctx, rm.url+returnPath)
	browsertest.Screenshot(t, ctx, filepath.Join(shots, "waitpage-nojs-en.png"))
	// Evaluation through the protocol works with page scripts off: ask
	// what the visitor sees.
	if got := browsertest.Eval[string](t, ctx, "document.body.innerText"); !strings.Contains(got, english.NoScript) ||
		!strings.Contains(got, "You are number 4 in line") {
		t.Errorf("without JavaScript the page reads:\n%s\nwant the position and that it refreshes itself", got)
	}
	waitPages(t, rm, 2, 3*time.Second)
	rm.set(func(rm *room) { rm.status = "admitted" })
	browsertest.WaitFor(t, ctx, "document.body.innerText.trim() === 'ADMITTED'", 3*time.Second, pageState...)
}

// waitPages waits until rm has served at least n pages.
func waitPages(t *testing.T, rm *room, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		pages, _, _, _ := rm.counts()
		if pages >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d page loads after %v, want %d: the page does not refresh itself", pages, timeout, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
