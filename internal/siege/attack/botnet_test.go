package attack

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/siege/sim"
	"github.com/rempart/rempart/internal/synth"
)

// TestBotnet: a thousand bots from a thousand addresses, each under any
// per-IP limit; fixed bots look alike, rotating ones do not.
func TestBotnet(t *testing.T) {
	const bots = 1000
	for _, mode := range []string{"fixed", "rotating", "viewer"} {
		t.Run(mode, func(t *testing.T) {
			var mu sync.Mutex
			perIP := map[string]int{}
			uas := map[string]bool{}
			orders := map[string]bool{}
			srv := startTCP(t, func(c net.Conn) {
				serveHTTP1(c, func(r httpRequest) {
					mu.Lock()
					defer mu.Unlock()
					perIP[r.remote]++
					uas[r.ua] = true
					orders[strings.Join(r.names, ",")] = true
				})
			})
			p := sim.Params{"fingerprint": mode, "requests": 2, "interval": "5ms",
				"path": []any{"/live/master.m3u8", "/live/720p/index.m3u8"}}
			env, r := newEnv(t, srv.url(), p, 10_000)
			runClients(context.Background(), Models()["botnet"], env, bots, source)
			if err := r.firstErr(); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(perIP) < bots {
				t.Fatalf("%d distinct source addresses, want %d", len(perIP), bots)
			}
			for ip, n := range perIP {
				if n != 2 {
					t.Fatalf("%s sent %d requests, want 2", ip, n)
				}
			}
			switch {
			case mode == "fixed" && (len(uas) != 1 || len(orders) != 1):
				t.Fatalf("fixed: %d User-Agents, %d header orders; want 1 and 1", len(uas), len(orders))
			case mode == "viewer" && (!uas["rempart-siege/1"] || len(uas) != 1 || !orders["Host,User-Agent,Accept"] || len(orders) != 1):
				t.Fatalf("viewer: User-Agents %v, header orders %v; want siege's viewers' only", uas, orders)
			case mode == "rotating" && (len(uas) < 4 || len(orders) < 4):
				t.Fatalf("rotating: %d User-Agents, %d header orders; want several", len(uas), len(orders))
			}
			t.Logf("%s: %d sources, %d User-Agents, %d header orders", mode, len(perIP), len(uas), len(orders))
		})
	}
}

// TestBotnetDrawsTemplates: bots with the viewers' fingerprint asking
// random segment names draw a new name for every request, never one twice.
func TestBotnetDrawsTemplates(t *testing.T) {
	const bots, each = 100, 3
	var mu sync.Mutex
	targets := map[string]int{}
	orders := map[string]bool{}
	srv := startTCP(t, func(c net.Conn) {
		serveHTTP1(c, func(r httpRequest) {
			mu.Lock()
			defer mu.Unlock()
			targets[r.target]++
			orders[strings.Join(r.names, ",")+" "+r.ua] = true
		})
	})
	p := sim.Params{"fingerprint": "viewer", "requests": each, "interval": "5ms",
		"path": "/live/{240p|360p}/x{rand}.ts?cb={rand}"}
	env, r := newEnv(t, srv.url(), p, 10_000)
	runClients(context.Background(), Models()["botnet"], env, bots, source)
	if err := r.firstErr(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	re := regexp.MustCompile(`^/live/(240p|360p)/x[0-9a-f]{16}\.ts\?cb=[0-9a-f]{16}$`)
	renditions := map[string]bool{}
	for target, n := range targets {
		if !re.MatchString(target) || n != 1 {
			t.Fatalf("asked %q %d times, want every random name once", target, n)
		}
		renditions[strings.Split(target, "/")[2]] = true
	}
	if len(targets) != bots*each || len(renditions) != 2 {
		t.Errorf("%d distinct names over %d renditions, want %d over 2", len(targets), len(renditions), bots*each)
	}
	if !orders["Host,User-Agent,Accept rempart-siege/1"] || len(orders) != 1 {
		t.Errorf("fingerprints %v, want the viewers' only", orders)
	}
}

// TestBotnetAsksListedObjects: listed bots read the stream and ask only
// what it lists: the master, then one rendition's playlist, then its
// segments (a synthetic origin answers each 200: nothing unlisted).
func TestBotnetAsksListedObjects(t *testing.T) {
	origin, err := synth.New(synth.Options{SegmentDuration: time.Second, Renditions: 2})
	if err != nil {
		t.Fatal(err)
	}
	type ask struct {
		uri    string
		status int
	}
	var mu sync.Mutex
	byBot := map[string][]ask{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &statusWriter{ResponseWriter: w, status: 200}
		origin.ServeHTTP(rw, r)
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		mu.Lock()
		byBot[host] = append(byBot[host], ask{r.URL.RequestURI(), rw.status})
		mu.Unlock()
	}))
	defer srv.Close()
	const bots, each = 20, 12
	p := sim.Params{"fingerprint": "viewer", "requests": each, "interval": "150ms", "listed": "/live/master.m3u8"}
	env, r := newEnv(t, srv.URL, p, 10_000)
	runClients(context.Background(), Models()["botnet"], env, bots, source)
	if err := r.firstErr(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(byBot) != bots {
		t.Fatalf("%d bots seen, want %d", len(byBot), bots)
	}
	segments := 0
	for host, asks := range byBot {
		if len(asks) != each || asks[0].uri != "/live/master.m3u8" || !strings.HasSuffix(asks[1].uri, "/index.m3u8") {
			t.Fatalf("bot %s asked %v: want the master, then a media playlist, %d requests", host, asks, each)
		}
		playlist := asks[1].uri
		dir := strings.TrimSuffix(playlist, "index.m3u8")
		for _, a := range asks[2:] {
			switch {
			case a.status != 200:
				t.Fatalf("bot %s: %s answered %d: a listed bot asked what is not listed", host, a.uri, a.status)
			case a.uri == playlist:
			case strings.HasPrefix(a.uri, dir) && strings.HasSuffix(a.uri, ".ts"):
				segments++
			default:
				t.Fatalf("bot %s follows %s but asked %s", host, playlist, a.uri)
			}
		}
	}
	if segments < bots*(each-2)/2 {
		t.Errorf("%d segment requests, want most of the %d after the playlists", segments, bots*(each-2))
	}
}

// statusWriter notes the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func TestBotnetCheckParams(t *testing.T) {
	for _, tc := range []struct {
		params sim.Params
		want   string // "" for valid
	}{
		{sim.Params{}, ""},
		{sim.Params{"path": "/x{rand}.ts", "fingerprint": "viewer"}, ""},
		{sim.Params{"listed": "/live/master.m3u8", "playlists": 0.2}, ""},
		{sim.Params{"fingerprint": "chrome"}, `fingerprint "chrome": want fixed, rotating or viewer`},
		{sim.Params{"path": []any{"/ok", "/x{rnd}"}}, "{rnd}: want {rand} or alternatives"},
		{sim.Params{"path": "/x", "listed": "/live/master.m3u8"}, "path and listed given"},
		{sim.Params{"listed": "live"}, "listed live: want the path of a live master playlist"},
		{sim.Params{"listed": "/m.m3u8", "playlists": 2}, "playlists 2: want a share from 0 to 1"},
	} {
		err := botnet{}.CheckParams(tc.params)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("CheckParams(%v) = %v, want %q", tc.params, err, tc.want)
		}
	}
}
