// Package evidence keeps copies of attack traffic fit for a complaint: a
// sample of the requests the edge refused or mitigated, each written as one
// JSON line to a size-bounded, hash-chained log, following ANSSI's advice to
// preserve evidence of an attack before it is over.
//
// # Format
//
// The log is a directory of segment files named evidence-<unixnano>.jsonl,
// the number (20 digits, zero-padded) giving their order. Each line is one
// Entry, written as its JSON encoding with the field "hash" appended last:
//
//	{"seq":7,"time":"…","kind":"request","prev_hash":"…",…,"hash":"<64 hex>"}
//
// hash is the SHA-256 of the line's bytes with `,"hash":"<64 hex>"` taken
// out, that is of the JSON object as written minus its last field, and
// prev_hash is the hash of the entry before it (64 zeros for the first entry
// ever written, seq 1). The hash covers the bytes as written, not a
// re-encoding, so a line can be checked with standard tools:
//
//	sed -n 7p FILE | sed -E 's/,"hash":"[0-9a-f]{64}"}$/}/' | tr -d '\n' | sha256sum
//
// The chain runs across files. Besides requests it holds two kinds of
// markers, each itself chained: "gap" admits a hole (a torn last line found
// on start, writes lost to a disk error) and "pruned" announces that the
// oldest files are about to be deleted to stay under the size bound, naming
// them and the first entry kept. Verify then starts from the first entry of
// the oldest remaining file, trusting its prev_hash as the anchor, and checks
// that a pruned marker announced it.
//
// # Cost
//
// Log.Observe runs on the request's goroutine: it decides cheaply (no
// allocation) whether to keep the request, copies what it keeps, and hands
// the entry to Log.Run's goroutine over a bounded channel, dropping and
// counting when the writer falls behind. The request path never waits for
// the disk.
package evidence
