package attack

import (
	"context"
	"net"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/siege/sim"
)

// TestBudgetRefusal: with the budget spent, no model dials or sends, and
// each returns at once.
func TestBudgetRefusal(t *testing.T) {
	names := make([]string, 0)
	for name := range Models() {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			srv := startTCP(t, func(c net.Conn) { serveHTTP1(c, nil) })
			env, r := newEnv(t, srv.url(), sim.Params{"interval": "1ms"}, 0)
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			start := time.Now()
			runClients(ctx, Models()[name], env, 20, source)
			if d := time.Since(start); d > time.Second {
				t.Fatalf("Run took %s with no budget", d)
			}
			if srv.accepted.Load() != 0 || r.n.Load() != 0 {
				t.Fatalf("%d connections, %d requests recorded with no budget", srv.accepted.Load(), r.n.Load())
			}
		})
	}
}

// TestBudgetExact: the models send exactly what the budget allows.
func TestBudgetExact(t *testing.T) {
	for _, name := range []string{"get-flood", "botnet"} {
		t.Run(name, func(t *testing.T) {
			var seen atomic.Int64
			srv := startTCP(t, func(c net.Conn) { serveHTTP1(c, func(httpRequest) { seen.Add(1) }) })
			env, _ := newEnv(t, srv.url(), sim.Params{"requests": 3, "interval": "1ms"}, 7)
			runClients(t.Context(), Models()[name], env, 10, source)
			if seen.Load() != 7 {
				t.Fatalf("server saw %d requests, budget 7", seen.Load())
			}
		})
	}
	t.Run("h2-flood", func(t *testing.T) {
		srv := startH2(t, nil)
		env, _ := newEnv(t, srv.url(), sim.Params{"streams": 1000, "settle": "20ms"}, 7)
		Models()["h2-flood"].Run(t.Context(), env, sim.Client{Intended: time.Now()})
		if n := len(ofType(srv.got(), 0x1)); n != 6 {
			t.Fatalf("server saw %d streams, want 6 (budget 7, one for the connection)", n)
		}
	})
}
