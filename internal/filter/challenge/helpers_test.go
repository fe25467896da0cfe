package challenge

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/rempart/rempart/internal/config"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// clock is a settable time for tests.
type clock struct {
	mu sync.Mutex // protects t
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testConfig is a cheap challenge: 8 bits at rest, 12 at most.
func testConfig() config.Challenge {
	return config.Challenge{Difficulty: 8, MaxDifficulty: 12, ClearanceTTL: time.Hour}
}

func newChallenger(t testing.TB, cfg config.Challenge, clk *clock) *Challenger {
	t.Helper()
	c, err := New(cfg, slog.New(slog.DiscardHandler), clk.now)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const (
	uaChrome  = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36"
	uaFirefox = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
)

var (
	home     = netip.MustParseAddr("203.0.113.7")
	sameNet  = netip.MustParseAddr("203.0.113.250")
	otherNet = netip.MustParseAddr("198.51.100.7")
	home6    = netip.MustParseAddr("2001:db8:1:2::1")
	same6    = netip.MustParseAddr("2001:db8:1:2:ffff::9")
	other6   = netip.MustParseAddr("2001:db8:1:3::1")
)

// request builds a request from addr with ua and extra headers
// ("Name: value").
func request(method, target string, addr netip.Addr, ua string, headers ...string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	r.RemoteAddr = netip.AddrPortFrom(addr, 40000).String()
	r.Header.Set("User-Agent", ua)
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		r.Header.Add(k, strings.TrimSpace(v))
	}
	return r
}

// origin answers 200 "origin <path>" for what the stage lets through.
var origin = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write([]byte("<!doctype html><title>origin</title><h1>origin " + r.URL.Path + "</h1>"))
})
