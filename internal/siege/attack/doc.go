// Package attack holds the attacker models of `rempart siege`: the layer-7
// attacks that took streaming platforms down on match night, replayed
// against a target so the report can say what viewers lived through while
// they ran.
//
// Two families, matching how the runner starts clients:
//
//   - request floods (get-flood, cache-bust, login-flood, search-flood):
//     each arriving client is one request, so a population's rate is
//     requests per second. Clients fold onto a bounded set of source
//     addresses (Params "sources", see flood.go), each with a bounded pool
//     of keep-alive connections, and requests are written and parsed by a
//     lean HTTP/1.1 engine (http1.go) rather than net/http, which costs
//     too much per request at 50,000 requests/s.
//   - connection attacks (slowloris, slow-read, conn-flood, h2-flood,
//     botnet): each client holds its connection(s) for its life.
//
// Every model takes one unit of env.Budget before each request and each
// connection and stops when refused, dials only through env.Dial (so the
// client's source address is respected), and returns promptly once ctx is
// done. Every exchange is recorded as sim.KindAttack.
package attack

import "github.com/rempart/rempart/internal/siege/sim"

// Models returns the attacker models by the name a scenario uses. Each call
// returns fresh models; a model keeps per-population state (connection
// pools) only for as long as its clients are active.
func Models() map[string]sim.Model {
	return map[string]sim.Model{
		"get-flood":    newFlood(buildGet, defaultHotPath),
		"cache-bust":   newFlood(buildCacheBust, defaultHotPath),
		"login-flood":  newFlood(buildLogin, defaultLoginPath),
		"search-flood": newFlood(buildSearch, defaultQueryPath),
		"slowloris":    slowloris{},
		"slow-read":    slowRead{},
		"conn-flood":   connFlood{},
		"h2-flood":     h2Flood{},
		"botnet":       botnet{},
	}
}

// Every model satisfies sim.Model.
var (
	_ sim.Model = (*flood)(nil)
	_ sim.Model = slowloris{}
	_ sim.Model = slowRead{}
	_ sim.Model = connFlood{}
	_ sim.Model = h2Flood{}
	_ sim.Model = botnet{}

	_ sim.ParamChecker = botnet{}
)
