// Package challenge is the proof-of-work gate of attack mode. While the
// detector says the edge is under attack, a new browser session must solve
// a small puzzle (find a counter whose SHA-256 with a signed challenge has
// enough leading zero bits) before it reaches the platform; the solution
// earns a signed, client-bound clearance cookie that lets the session
// through, cheaply, until it expires. Non-browser apps present a token
// signed by the platform instead.
//
// The Stage is the http.Handler the edge puts in the filter step; the
// Challenger holds the keys, the replay cache, the adaptive difficulty and
// the counters.
//
// Everything the stage serves lives under Prefix (/_rempart/challenge/): the
// verify endpoint, the page's script, worker and style.
package challenge
