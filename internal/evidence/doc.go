// Package evidence keeps copies of attack traffic fit for a complaint: a
// sample of the requests the edge refused or mitigated, each written as one
// JSON line to a size-bounded log chained by HMACs, following ANSSI's
// advice to preserve evidence of an attack before it is over.
//
// # Format
//
// The log is a directory of segment files named evidence-<unixnano>.jsonl,
// the number (20 digits, zero-padded) giving their order. Each line is one
// Entry, written as its JSON encoding with the field "hash" appended last:
//
//	{"seq":7,"time":"…","kind":"request","prev_hash":"…","key":"<16 hex>",…,"hash":"<64 hex>"}
//
// hash is the HMAC-SHA256 of the line's bytes with `,"hash":"<64 hex>"`
// taken out, that is of the JSON object as written minus its last field,
// under the chain key of the key file's secret that "key" names; prev_hash
// is the hash of the entry before it (64 zeros for the first entry ever
// written, seq 1). Without the key no one can recompute a hash, so an
// entry cannot be rewritten, removed from the middle or renumbered without
// breaking the chain. The key file (shield.evidence.key_file) lives
// outside the log; each secret is one line, and its chain key is
// HMAC-SHA256(secret, "rempart evidence chain v1"). The hash covers the
// bytes as written, not a re-encoding, so a line can be checked with
// standard tools:
//
//	K=$(printf %s 'rempart evidence chain v1' | openssl dgst -sha256 -hmac "$(grep -v '^#' KEYFILE | head -1)" | awk '{print $NF}')
//	sed -n 7p FILE | sed -E 's/,"hash":"[0-9a-f]{64}"}$/}/' | tr -d '\n' | openssl dgst -sha256 -mac HMAC -macopt hexkey:$K
//
// Entries written before the chain was keyed carry no "key" and a plain
// SHA-256 as their hash; Verify refuses them unless asked.
//
// The chain runs across files. Besides requests it holds three kinds of
// markers, each itself chained: "gap" admits a hole (a torn last line found
// on start, writes lost to a disk error), "pruned" announces that the
// oldest files are about to be deleted to stay under the size bound, naming
// them and the first entry kept, and "key" says that the entries after it
// are keyed with another key (rotation). Verify then starts from the first
// entry of the oldest remaining file, trusting its prev_hash as the anchor,
// and checks that a pruned marker announced it.
//
// A cut tail leaves a shorter chain that holds: only the head published
// outside the log (Head: written to shield.evidence.head_file and served
// by the admin API) shows it. Secrets of the viewers in what an entry keeps
// of a request (tokens, session and API keys, cookie values, signed query
// parameters) are replaced by a keyed hash, [hmac:<16 hex>], under a key
// derived from the same secret. docs/evidence.md says what this proves.
//
// # Cost
//
// Log.Observe runs on the request's goroutine: it decides cheaply (no
// allocation) whether to keep the request, copies what it keeps, and hands
// the entry to Log.Run's goroutine over a bounded channel, dropping and
// counting when the writer falls behind. The request path never waits for
// the disk.
package evidence
