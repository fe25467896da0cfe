package filter

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/telemetry"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newShield builds a Shield on a fake clock.
func newShield(t testing.TB, cfg config.Shield) (*Shield, *fakeClock) {
	t.Helper()
	clk := newClock()
	s, err := New(cfg, nil, clk.Now)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s, clk
}

// request builds the record and request the filter sees for a client.
func request(client string, class telemetry.Class, path string) (*telemetry.Record, *http.Request) {
	a := netip.MustParseAddr(client)
	rec := &telemetry.Record{Client: a, Class: class}
	return rec, httptest.NewRequest(http.MethodGet, "http://edge.example"+path, nil)
}

// decideAt decides for client at the clock's time.
func decideAt(s *Shield, clk *fakeClock, client string, class telemetry.Class, path string) Verdict {
	rec, r := request(client, class, path)
	return s.Decide(rec, r, clk.Now())
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
