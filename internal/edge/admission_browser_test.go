package edge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/rempart/rempart/internal/admission"
	"github.com/rempart/rempart/internal/browsertest"
	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/edge"
)

// roomSite is the site of the waiting-room test; its admission is on with
// one place, pages gated, the shortest session idle time and fast polls.
const roomSite = "tv"

// roomIdle is the site's session_idle: a session not renewed for that long
// frees its place at the room's next sweep (once a second).
const roomIdle = time.Second

func roomConfig(t *testing.T, originURL string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(fmt.Sprintf(`listen: 127.0.0.1:0
sites:
  - name: %s
    hosts: ["*"]
    origins: [{url: %q}]
    admission:
      mode: "on"
      max_sessions: 1
      gate_pages: true
      session_idle: %s
      queue: {poll_min: 100ms, poll_max: 300ms}
`, roomSite, originURL, roomIdle)), "waiting room test")
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

// watchPage is the origin's page hosting the player. Its stand-in for a
// player fetches the master playlist as a real one would, which renews the
// browser's session; plays counts the playlists it got.
const watchPage = `<!doctype html><html><head><meta charset="utf-8"><title>Live</title></head>
<body><h1>WATCHING</h1><script>
window.plays = 0;
setInterval(() => fetch("/live/master.m3u8", {cache: "no-store"})
  .then((r) => { window.lastPlay = r.status; if (r.ok) window.plays++; }), 300);
</script></body></html>`

const masterPlaylist = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\n360p/index.m3u8\n"

func watchOrigin(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/watch":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, watchPage)
	case "/live/master.m3u8":
		w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
		w.Header().Set("Cache-Control", "max-age=1")
		io.WriteString(w, masterPlaylist)
	default:
		http.NotFound(w, r)
	}
}

// roomLang is one language of the waiting page, with the words the test
// expects of it (waitpage's texts.go).
type roomLang struct {
	lang, acceptLanguage string
	title, first         string // the page's title; its line for position 1
}

// TestWaitingRoomInBrowser is a viewer's way through a full site's waiting
// room in headless Chromium, through the real edge and a real origin, in
// English and in French. A player holds the only place; the browser gets
// the waiting page; the player leaves; the browser is let in and shows the
// origin's page. A second browser arriving then is first in line.
func TestWaitingRoomInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("headless Chromium (-short)")
	}
	shots := roomArtifacts(t)
	for _, tt := range []roomLang{
		{"en", "en-GB,en;q=0.9", "Waiting room", "You are number 1 in line"},
		{"fr", "fr-FR,fr;q=0.9,en;q=0.5", "Salle d’attente", "Vous êtes le numéro\u00a01 dans la file"},
	} {
		// Each language has its own edge, origin and browser, so neither
		// places nor cookies carry over.
		t.Run(tt.lang, func(t *testing.T) { waitThenWatch(t, shots, tt) })
	}
}

func waitThenWatch(t *testing.T, shots string, lang roomLang) {
	o := newOrigin(t, watchOrigin)
	e := startEdge(t, roomConfig(t, o.URL), edge.Options{})
	base := "http://" + e.Addr()
	player := holdPlace(t, base+"/live/master.m3u8")
	ctx := browsertest.New(t)
	roomLanguage(t, ctx, lang.acceptLanguage)

	waitingPage(t, ctx, base+"/watch", lang)
	browsertest.Screenshot(t, ctx, filepath.Join(shots, "waitroom-edge-"+lang.lang+".png"))
	stillWaiting(t, ctx, e, lang)

	left := player.leave(t)
	browsertest.WaitFor(t, ctx, "location.pathname === '/watch' && document.querySelector('h1')?.textContent === 'WATCHING'",
		10*time.Second, roomPageState...)
	t.Logf("watching %v after the player left", time.Since(left).Round(time.Millisecond))
	// The page's player renews the session the waiting page was given.
	browsertest.WaitFor(t, ctx, "window.plays >= 2", 5*time.Second, "window.plays", "window.lastPlay")
	checkAdmitted(t, ctx, e, o)

	// A second viewer, in a browser context of its own (no cookies shared),
	// arrives while the first watches: the line works after an admission.
	second := otherBrowser(t, ctx)
	roomLanguage(t, second, lang.acceptLanguage)
	waitingPage(t, second, base+"/watch", lang)
	if s := roomState(t, e); s.Sessions != 1 || s.Waiting != 1 {
		t.Errorf("with one viewer watching and one waiting, GET /api/admission shows %d sessions and %d waiting, want 1 and 1", s.Sessions, s.Waiting)
	}
	if n := o.count("/watch"); n != 1 {
		t.Errorf("the origin served /watch %d times, want once: waiting browsers must cost it nothing", n)
	}
	roomConsole(t, ctx)
}

// waitingPage navigates ctx's tab to url and checks that the edge answers
// with the waiting page: 503, in the viewer's language, first in line, its
// script polling.
func waitingPage(t *testing.T, ctx context.Context, url string, lang roomLang) {
	t.Helper()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(url))
	if err != nil {
		t.Fatalf("navigate to %s: %v", url, err)
	}
	if resp.Status != http.StatusServiceUnavailable {
		t.Fatalf("GET %s answered %d %s (%s), want 503 and the waiting page", url, resp.Status, resp.StatusText, resp.MimeType)
	}
	if got := browsertest.Eval[string](t, ctx, "document.documentElement.lang"); got != lang.lang {
		t.Errorf("waiting page in %q, want %q (Accept-Language: %s)", got, lang.lang, lang.acceptLanguage)
	}
	for sel, want := range map[string]string{"title": lang.title, "#l1": lang.first} {
		if got := browsertest.Text(t, ctx, sel); got != want {
			t.Errorf("waiting page: %s reads %q, want %q", sel, got, want)
		}
	}
	browsertest.WaitFor(t, ctx, "window.rempartWait && window.rempartWait.polls >= 1", 5*time.Second, roomPageState...)
}

// stillWaiting checks that while the player renews its session the place
// stays taken: for longer than session_idle and the sweep after it, the
// page keeps polling and stays first in line.
func stillWaiting(t *testing.T, ctx context.Context, e *edge.Edge, lang roomLang) {
	t.Helper()
	time.Sleep(2*roomIdle + 250*time.Millisecond)
	if s := roomState(t, e); s.Sessions != 1 || s.Waiting != 1 || s.Granted != 0 {
		t.Errorf("while the player renews its place, GET /api/admission shows %d sessions, %d waiting, %d granted; want 1, 1, 0",
			s.Sessions, s.Waiting, s.Granted)
	}
	st := browsertest.Eval[struct {
		State string `json:"state"`
		Polls int    `json:"polls"`
	}](t, ctx, "window.rempartWait")
	line := browsertest.Text(t, ctx, "#l1")
	if st.State != "queued" || st.Polls < 3 || line != lang.first {
		t.Errorf("while the place is held the page is %q after %d polls and reads %q; want queued, 3 polls or more, %q",
			st.State, st.Polls, line, lang.first)
	}
}

// checkAdmitted checks the edge's side of the admission: the browser holds
// the session cookie, the admin API shows one session and nobody waiting,
// and the metrics count the grant.
func checkAdmitted(t *testing.T, ctx context.Context, e *edge.Edge, o *countingOrigin) {
	t.Helper()
	cookies, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		t.Fatalf("browser cookies: %v", err)
	}
	var names []string
	for _, c := range cookies.Cookies {
		names = append(names, c.Name)
	}
	if !strings.Contains(" "+strings.Join(names, " ")+" ", " "+admission.SessionCookie+" ") {
		t.Errorf("admitted browser holds cookies %q, want %s", names, admission.SessionCookie)
	}
	if s := roomState(t, e); s.Sessions != 1 || s.Waiting != 0 || s.Granted != 0 {
		t.Errorf("once the browser watches, GET /api/admission shows %d sessions, %d waiting, %d granted; want 1, 0, 0",
			s.Sessions, s.Waiting, s.Granted)
	}
	m := scrape(t, e)
	for ev, least := range map[string]float64{"direct": 1, "ticket": 1, "granted": 1, "redeemed": 1, "ended": 1} {
		if got := admissionEvent(t, m, ev); got < least {
			t.Errorf("rempart_admission_total{event=%q,site=%q} = %v, want at least %v", ev, roomSite, got, least)
		}
	}
	if n := o.count("/watch"); n != 1 {
		t.Errorf("the origin served /watch %d times, want once (to the admitted browser)", n)
	}
}

// roomPlayer is a player holding the site's place: it renews its session
// by fetching the master playlist every renewEvery until it leaves.
type roomPlayer struct {
	stop func()        // asks the renewing goroutine to return
	done chan struct{} // closed when it has

	mu       sync.Mutex // protects failures
	failures []string
}

// renewEvery is how often the player renews its session: well within
// session_idle.
const renewEvery = 250 * time.Millisecond

// holdPlace takes the only place with a gated request, as a player
// does, and keeps it until leave (or the end of the test).
func holdPlace(t *testing.T, url string) *roomPlayer {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	code, body, h := get(t, c, url)
	session := h.Get(admission.SessionHeader)
	if code != http.StatusOK || session == "" || h.Get(admission.AdmittedHeader) != "1" {
		t.Fatalf("first GET %s: %d, %s %q, %s %q; want 200, a session, admitted 1\n%s",
			url, code, admission.SessionHeader, session, admission.AdmittedHeader, h.Get(admission.AdmittedHeader), body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &roomPlayer{stop: cancel, done: make(chan struct{})}
	go p.renew(ctx, c, url, session)
	t.Cleanup(func() { p.stop(); <-p.done })
	return p
}

func (p *roomPlayer) renew(ctx context.Context, c *http.Client, url, session string) {
	defer close(p.done)
	tick := time.NewTicker(renewEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		req.Header.Set(admission.SessionHeader, session)
		resp, err := c.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				p.fail(err.Error())
			}
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			p.fail(fmt.Sprintf("renewal answered %d (%s)", resp.StatusCode, resp.Header.Get("Content-Type")))
		}
	}
}

func (p *roomPlayer) fail(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failures = append(p.failures, msg)
}

// leave stops renewing, reports renewals that failed, and returns when the
// player left.
func (p *roomPlayer) leave(t *testing.T) time.Time {
	t.Helper()
	p.stop()
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.failures) > 0 {
		t.Errorf("the player's renewals failed: %q", p.failures)
	}
	return time.Now()
}

// roomState is the site's room as the admin API shows it.
func roomState(t *testing.T, e *edge.Edge) admission.Snapshot {
	t.Helper()
	url := "http://" + e.AdminAddr() + "/api/admission"
	code, body, _ := get(t, http.DefaultClient, url)
	var rooms []admission.Snapshot
	if err := json.Unmarshal([]byte(body), &rooms); code != http.StatusOK || err != nil || len(rooms) != 1 || rooms[0].Site != roomSite {
		t.Fatalf("GET %s: %d %v, want 200 and the room of site %s:\n%s", url, code, err, roomSite, body)
	}
	return rooms[0]
}

// admissionEvent is the value of rempart_admission_total for the site and
// event in the metrics text m.
func admissionEvent(t *testing.T, m, event string) float64 {
	t.Helper()
	prefix := fmt.Sprintf(`rempart_admission_total{event=%q,site=%q} `, event, roomSite)
	l := metricLine(m, prefix)
	v, err := strconv.ParseFloat(strings.TrimPrefix(l, prefix), 64)
	if err != nil {
		t.Fatalf("metrics: no sample %s: %v", prefix, err)
	}
	return v
}

// otherBrowser opens a tab in a new browser context of ctx's browser: no
// cookies shared with ctx's tab.
func otherBrowser(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	c, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	return c
}

// roomLanguage sends Accept-Language header from ctx's tab.
func roomLanguage(t *testing.T, ctx context.Context, header string) {
	t.Helper()
	_, err := chromedp.Call(ctx, network.Enable, network.EnableParams{})
	if err == nil {
		_, err = chromedp.Call(ctx, network.SetExtraHTTPHeaders,
			network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": header}})
	}
	if err != nil {
		t.Fatalf("set Accept-Language %s: %v", header, err)
	}
}

// roomPageState is what a failed wait prints, to tell what the page saw.
var roomPageState = []string{
	"location.href",
	"JSON.stringify(window.rempartWait)",
	"document.body && document.body.innerText",
}

// roomConsole fails the test on what the waiting page must never log: a
// Content Security Policy or Trusted Types violation, an exception.
func roomConsole(t *testing.T, ctx context.Context) {
	t.Helper()
	for _, m := range browsertest.Messages(ctx) {
		if strings.Contains(m, "Content Security Policy") || strings.Contains(m, "Trusted Type") || strings.HasPrefix(m, "exception") {
			t.Errorf("browser console: %s", m)
		}
	}
}

// roomArtifacts is where screenshots go: $REMPART_ARTIFACTS, as in the
// other browser tests, or a temporary directory.
func roomArtifacts(t *testing.T) string {
	if dir := os.Getenv("REMPART_ARTIFACTS"); dir != "" {
		return dir
	}
	return t.TempDir()
}
