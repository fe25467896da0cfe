package waitpage

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/rempart/rempart/internal/browsertest"
)

// returnPath is the stream the viewer asked for and waits to get.
const returnPath = "/live/master.m3u8"

// retryAfter is the rooms' delay between polls, short so the tests are.
const retryAfter = 300 * time.Millisecond

// room plays the edge for one browser test: it serves the waiting page at
// returnPath while the ticket waits and "ADMITTED" once it may enter, and
// the status endpoint, in the state the test sets.
type room struct {
	url string
	id  string // the ticket and the session: rooms in one browser share cookies

	mu        sync.Mutex // protects the fields below
	status    string     // what the status endpoint answers
	reason    string     // the refusal's, when status is "refused"
	view      View       // the page's, and the status endpoint's numbers
	failures  int        // status requests to answer 502 before the next good one
	pages     int        // page requests, waiting or admitted
	polls     []time.Time
	badPolls  []string // polls without the ticket cookie or the JSON Accept
	bySession bool     // the admitted page was asked for with the session
}

var roomIDs struct {
	mu sync.Mutex // protects n
	n  int
}

func newRoom(t *testing.T, ctx context.Context, status string, v View) *room {
	t.Helper()
	roomIDs.mu.Lock()
	roomIDs.n++
	rm := &room{id: fmt.Sprintf("room%d", roomIDs.n), status: status, view: v}
	roomIDs.mu.Unlock()
	mux := http.NewServeMux()
	mux.HandleFunc(returnPath, rm.page)
	mux.HandleFunc(DefaultStatusURL, rm.poll)
	srv := httptest.NewServer(mux)
	rm.url = srv.URL
	t.Cleanup(srv.Close)
	// Cleanups run last-in first-out: the page stops polling, then the
	// server closes.
	t.Cleanup(func() { chromedp.Run(ctx, chromedp.Navigate("about:blank")) })
	return rm
}

func (rm *room) set(f func(*room)) {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	f(rm)
}

func (rm *room) page(w http.ResponseWriter, r *http.Request) {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	rm.pages++
	c, err := r.Cookie("rempart_session")
	session := err == nil && c.Value == rm.id
	if session || rm.status == "admitted" {
		rm.bySession = session
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ADMITTED"))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: "rempart_ticket", Value: rm.id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	v := rm.view
	v.Return, v.RetryAfter = r.URL.RequestURI(), retryAfter
	Render(w, r, v, http.StatusServiceUnavailable)
}

func (rm *room) poll(w http.ResponseWriter, r *http.Request) {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	rm.polls = append(rm.polls, time.Now())
	if c, err := r.Cookie("rempart_ticket"); err != nil || c.Value != rm.id || r.Header.Get("Accept") != "application/json" {
		rm.badPolls = append(rm.badPolls, fmt.Sprintf("cookies %q, Accept %q", r.Header.Get("Cookie"), r.Header.Get("Accept")))
	}
	if rm.failures > 0 {
		rm.failures--
		http.Error(w, "bad gateway", http.StatusBadGateway)
		return
	}
	code, body := rm.answerLocked()
	if rm.status == "admitted" {
		http.SetCookie(w, &http.Cookie{Name: "rempart_session", Value: rm.id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(body)
}

// answerLocked is the status endpoint's answer, as docs/admission.md has
// it. A queued ticket is answered 503, as the gated request is: the page
// must go by the JSON.
func (rm *room) answerLocked() (int, map[string]any) {
	v := rm.view
	switch rm.status {
	case "admitted":
		return http.StatusOK, map[string]any{"status": "admitted", "session": rm.id, "admitted": 1}
	case "refused":
		return http.StatusForbidden, map[string]any{"status": "refused", "reason": rm.reason}
	case "prequeue":
		return http.StatusServiceUnavailable, map[string]any{"status": "prequeue", "number": v.Number,
			"opens_in": v.OpensIn.Seconds(), "retry_after": retryAfter.Seconds()}
	}
	a := map[string]any{"status": "queued", "ticket": rm.id, "number": v.Number, "wait": v.Wait.Seconds(),
		"retry_after": retryAfter.Seconds(), "status_url": DefaultStatusURL}
	if !v.Raffle {
		a["position"] = v.Position
	}
	return http.StatusServiceUnavailable, a
}

func (rm *room) counts() (pages, polls int, bad []string, bySession bool) {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	return rm.pages, len(rm.polls), rm.badPolls, rm.bySession
}

// pageState is what a failed wait prints, to tell what the page saw.
var pageState = []string{
	"location.href",
	"JSON.stringify(window.rempartWait)",
	"document.body && document.body.innerText",
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
		if strings.Contains(m, "Content Security Policy") || strings.Contains(m, "Trusted Type") || strings.HasPrefix(m, "exception") {
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

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}

// shows is a JavaScript condition: the page's lines read l1 and l2.
func shows(l1, l2 string) string {
	return fmt.Sprintf("document.getElementById('l1').textContent === %s && document.getElementById('l2').textContent === %s",
		jsString(l1), jsString(l2))
}
