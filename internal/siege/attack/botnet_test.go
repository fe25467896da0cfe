package attack

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/rempart/rempart/internal/siege/sim"
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
