package cache

import (
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/rempart/rempart/internal/telemetry"
)

// pickyOrigin is a loopback origin that refuses (405) a request carrying
// X-HTTP-Method-Override, as many frameworks do, records the headers of
// every request it sees, and holds each answer until release is closed, so
// that a test can gather waiters on the flight first.
type pickyOrigin struct {
	mu      sync.Mutex // guards seen
	seen    []http.Header
	arrived chan struct{} // one per request
	release chan struct{}
}

func newPickyOrigin() *pickyOrigin {
	return &pickyOrigin{arrived: make(chan struct{}, 64), release: make(chan struct{})}
}

func (o *pickyOrigin) serve(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.seen = append(o.seen, r.Header.Clone())
	o.mu.Unlock()
	o.arrived <- struct{}{}
	<-o.release
	if r.Header.Get("X-HTTP-Method-Override") != "" {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Cache-Control", "max-age=60")
	w.Header().Set("Content-Type", "video/mp2t")
	_, _ = io.WriteString(w, "segment lang="+r.Header.Get("Accept-Language"))
}

func (o *pickyOrigin) headers() []http.Header {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]http.Header(nil), o.seen...)
}

// attackerHeaders are headers one client can add to the first request of a
// new segment to shape the shared answer: method and path overrides, keys,
// and the variant selectors an origin may honour.
var attackerHeaders = []string{
	"X-HTTP-Method-Override", "PURGE", "X-Original-URL", "/admin", "X-Rewrite-URL", "/admin",
	"X-Host", "evil.example", "X-Api-Key", "stolen", "User-Agent", "evil/1.0", "Accept-Language", "xx",
}

// TestSharedFetchDropsUnlistedHeaders: the shared fetch of a new segment
// carries no header the site does not list, so the first requester cannot
// make the origin refuse it for every viewer waiting on it (issue 11, hole
// 3: X-HTTP-Method-Override: PURGE got every waiter a 405).
func TestSharedFetchDropsUnlistedHeaders(t *testing.T) {
	o := newPickyOrigin()
	e := newEnv(t, o.serve, defaultOpts())
	const viewers = 20
	codes := make(chan int, viewers+1)
	var wg sync.WaitGroup
	wg.Go(func() { codes <- e.do("GET", "/live/new.ts", classOf("/live/new.ts"), attackerHeaders...).code })
	<-o.arrived // the attacker's request started the flight
	for range viewers {
		wg.Go(func() { codes <- e.do("GET", "/live/new.ts", classOf("/live/new.ts")).code })
	}
	waitFor(t, "viewers on the flight", func() bool { return e.store.Stats().Coalesced.Load() == viewers })
	close(o.release)
	wg.Wait()
	close(codes)
	for code := range codes {
		if code != http.StatusOK {
			t.Fatalf("a requester got %d, want 200 for all", code)
		}
	}
	seen := o.headers()
	if len(seen) != 1 {
		t.Fatalf("origin fetches = %d, want 1", len(seen))
	}
	for i := 0; i < len(attackerHeaders); i += 2 {
		if name := attackerHeaders[i]; name != "User-Agent" && seen[0].Get(name) != "" {
			t.Errorf("shared fetch carried %s: %q", name, seen[0].Get(name))
		}
	}
	if ua := seen[0].Get("User-Agent"); ua != sharedAgent {
		t.Errorf("shared fetch User-Agent %q, want the edge's %q", ua, sharedAgent)
	}
}

// TestSharedHeadersAreKeyed: a header the site lists reaches the shared
// fetch and is part of the key: requests that differ in it never share a
// flight or an object, those that agree do.
func TestSharedHeadersAreKeyed(t *testing.T) {
	o := newPickyOrigin()
	close(o.release)
	e := newEnv(t, o.serve, defaultOpts())
	if got := e.h.ShareHeaders([]string{"accept-language", "Accept-Language"}); len(got) != 1 || got[0] != "Accept-Language" {
		t.Fatalf("ShareHeaders applied %q, want [Accept-Language]", got)
	}
	for _, step := range []struct{ lang, want string }{{"fr", "lang=fr"}, {"en", "lang=en"}, {"fr", "lang=fr"}, {"", "lang="}} {
		var hdr []string
		if step.lang != "" {
			hdr = []string{"Accept-Language", step.lang}
		}
		if r := e.do("GET", "/v.ts", classOf("/v.ts"), hdr...); r.body != "segment "+step.want {
			t.Fatalf("Accept-Language %q: got %q", step.lang, r.body)
		}
	}
	if n := len(o.headers()); n != 3 {
		t.Fatalf("origin fetches = %d, want 3 (fr, en, none)", n)
	}
	if r := e.do("GET", "/v.ts", classOf("/v.ts"), attackerHeaders...); r.code != http.StatusOK || r.body != "segment lang=xx" {
		t.Fatalf("attacker: %d %q; want his own object, fetched without the unlisted headers", r.code, r.body)
	}
	for _, h := range o.headers() {
		if h.Get("X-HTTP-Method-Override") != "" || h.Get("X-Api-Key") != "" {
			t.Fatalf("unlisted header reached a shared fetch: %v", h)
		}
	}
}

// TestAPIPersonalHeaderPasses: an API request with a header a shared fetch
// would drop (an API key) is passed with its headers, never coalesced
// with another's: each key gets its own answer. One with only the headers
// clients send by themselves is still shared.
func TestAPIPersonalHeaderPasses(t *testing.T) {
	o := newPickyOrigin()
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		o.arrived <- struct{}{}
		<-o.release
		_, _ = io.WriteString(w, "key="+r.Header.Get("X-Api-Key"))
	}, defaultOpts())
	bodies := make(chan string, 2)
	var wg sync.WaitGroup
	for _, key := range []string{"alice", "bob"} {
		wg.Go(func() {
			r := e.do("GET", "/api/me", telemetry.ClassAPI, "X-Api-Key", key, "User-Agent", "app/1")
			if r.rec.Outcome != telemetry.OutcomePass || r.rec.Reason != "private_header" {
				t.Errorf("key %s: outcome %v %q, want a private_header pass", key, r.rec.Outcome, r.rec.Reason)
			}
			bodies <- key + ":" + r.body
		})
	}
	<-o.arrived
	<-o.arrived // both reached the origin, neither waits on the other
	close(o.release)
	wg.Wait()
	close(bodies)
	for b := range bodies {
		if b != "alice:key=alice" && b != "bob:key=bob" {
			t.Fatalf("answer %q went to the wrong requester", b)
		}
	}
	if r := e.do("GET", "/api/catalog", telemetry.ClassAPI, "User-Agent", "app/1", "Accept", "*/*"); r.rec.Outcome != telemetry.OutcomeMiss {
		t.Fatalf("ambient headers only: outcome %v %q, want a shared miss", r.rec.Outcome, r.rec.Reason)
	}
}
