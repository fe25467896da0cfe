// Package viewer holds siege's legitimate client models: "live-viewer" (an
// HLS player with a simulated buffer, stalls and ABR), "ondemand-listener"
// (a music app reading tracks by Range requests) and "app-user" (a person
// logging in and browsing the API). Models returns them by name.
//
// Each simulated person is one goroutine with one keep-alive HTTP/1.1
// connection opened from its own source address (Env.Dial), its own
// cookies and waiting-room tokens, and no other goroutine: a hand-written
// client (conn.go) replaces http.Transport, whose two goroutines and
// buffers per connection would double the cost per viewer.
//
// Cost, measured by TestScale (2,000 live viewers at the lowest rendition,
// 1-second segments, against a synthetic origin in another process, on a
// 2-core machine): about 23 KiB of heap and stack per viewer, and about 7%
// of one core per 1,000 viewers (≈2 requests/s each, 34 µs of CPU per
// request, segment bodies read and dropped). 20,000 viewers thus need about
// 460 MiB and 1.4 cores on the siege side; higher renditions cost CPU in
// proportion to the bytes read.
package viewer
