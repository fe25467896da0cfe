package config

import "time"

// Shield configures the defences in front of the cache: connection caps,
// client identity, rate limits, block and allow lists, the attack detector,
// the proof-of-work challenge and the evidence log.
type Shield struct {
	// Mode is "on" (refuse what the limits and mitigations refuse),
	// "shadow" (decide and count, but let every request through: for
	// tuning) or "off" (no shield stage at all). Zero (""): "on".
	Mode string `yaml:"mode"`
	// TrustedProxies are the CIDRs (a bare IP means /32 or /128) of proxies
	// in front of rempart whose X-Forwarded-For (and PROXY protocol header)
	// is believed. Empty: the TCP peer is the client. Defaults normalizes
	// each entry to its masked prefix; a /0 is refused, as it would let any
	// client choose its own address, and so is a list whose entries,
	// merged, cover more public space than a /8 of IPv4 or a /24 of IPv6
	// (private, loopback and link-local ranges do not count).
	TrustedProxies []string `yaml:"trusted_proxies"`
	// ProxyProtocol expects a PROXY protocol v2 header on every public
	// connection from a trusted proxy; it needs TrustedProxies. Default
	// false.
	ProxyProtocol bool `yaml:"proxy_protocol"`
	// Conns caps connections.
	Conns ConnLimits `yaml:"conns"`
	// Rates are the rate limits, all applied; a request over any is
	// refused with 429 and Retry-After. Unset (nil): DefaultRates. An
	// empty list (rates: []) sets no rate limit at all.
	Rates []RateLimit `yaml:"rates"`
	// MaxKeys bounds each rate limiter's table (least recently used keys are
	// forgotten first), so that a botnet of millions of addresses cannot
	// exhaust memory. Zero (unset): 200000; from 1000 to 100000000.
	MaxKeys int `yaml:"max_keys"`
	// Allow lists CIDRs (a bare IP means /32 or /128) never refused by the
	// shield (monitoring, partners). The allowlist always wins over blocks
	// and limits. Empty: none. Normalized like TrustedProxies; a /0 is
	// refused (use Mode "off").
	Allow []string `yaml:"allow"`
	// BlockFiles are paths of files of CIDRs (one per line, # comments)
	// blocked from the start, without expiry. Each must be readable.
	// Empty: none.
	BlockFiles []string `yaml:"block_files"`
	// MaxBlocks bounds the blocklist's entries, from files and mitigations
	// together. Zero (unset): 1000000; from 1 to 100000000.
	MaxBlocks int `yaml:"max_blocks"`
	// Detect tunes the attack detector.
	Detect Detect `yaml:"detect"`
	// Challenge tunes the proof-of-work challenge of attack mode.
	Challenge Challenge `yaml:"challenge"`
	// Evidence tunes the hash-chained evidence log.
	Evidence Evidence `yaml:"evidence"`
	// Pressure shares the edge fairly among its sources while its CPU is
	// saturated.
	Pressure Pressure `yaml:"pressure"`
}

// Pressure is what the shield does when the edge's CPU is saturated (its
// own load, or another process on its cores): each source may take a fair
// share of what the edge serves, and the rest is refused cheaply (429,
// Retry-After) until the CPU has room again. Viewers, and objects a
// playlist lists asked at a player's pace, are never refused so.
type Pressure struct {
	// Enabled turns the fair share on. Unset (nil): true.
	Enabled *bool `yaml:"enabled"`
	// SchedLatency is the 99th percentile of how long runnable goroutines
	// wait for a CPU, over a second, from which the edge is saturated (two
	// seconds in a row; it no longer is after five seconds under half of
	// it). Zero (unset): 10ms (a Go time slice); from 1ms to 1s.
	SchedLatency time.Duration `yaml:"sched_latency"`
	// Share is how many times the mean rate per source (requests a second
	// over the sources seen that second) one source may take while the
	// edge is saturated. Zero (unset): 2; from 1 to 100.
	Share float64 `yaml:"share"`
}

// ConnLimits caps connections on the public listener. Over a cap, a new
// connection is accepted and closed at once.
type ConnLimits struct {
	// PerIP is the most concurrent connections from one client address.
	// Zero (unset): 256 (a household or an office behind NAT shares one);
	// from 1 to Total.
	PerIP int `yaml:"per_ip"`
	// Total is the most concurrent connections overall. Zero (unset):
	// 100000; from 1 to 10000000.
	Total int `yaml:"total"`
	// MinRate is the slowest a client may read a response, in bytes per
	// second, measured over MinRateWindow: slower readers are cut (slow-read
	// defence). Zero (unset): 4KiB; at most 1GiB.
	MinRate ByteSize `yaml:"min_rate"`
	// MinRateWindow is how long a reader may stay under MinRate. Zero
	// (unset): 10s; at most 10m.
	MinRateWindow time.Duration `yaml:"min_rate_window"`
	// RequestRate is the most requests (or HTTP/2 streams) per second one
	// connection may open; a connection over it, past RequestBurst, is
	// closed (stream floods, HTTP/2 rapid reset). A player asks about one
	// object a second. Zero (unset): 100; at most 1000000.
	RequestRate float64 `yaml:"request_rate"`
	// RequestBurst is how many requests a connection may open at once
	// before RequestRate applies. Zero (unset): 400; at most 1000000.
	RequestBurst int `yaml:"request_burst"`
	// ResetRate is the most HTTP/2 streams per second one connection may
	// cancel before their answer is complete; a connection over it, past
	// ResetBurst, is closed (rapid reset, CVE-2023-44487). A player
	// cancels a download at a quality switch or a seek. Zero (unset): 5;
	// at most 1000000.
	ResetRate float64 `yaml:"reset_rate"`
	// ResetBurst is how many streams a connection may cancel at once
	// before ResetRate applies (a browser leaving a page cancels what it
	// was loading). Zero (unset): 50; at most 1000000.
	ResetBurst int `yaml:"reset_burst"`
}

// RateLimit is one token bucket per key.
type RateLimit struct {
	// Key is what is limited: "ip", "prefix" (IPv4 /24, IPv6 /64) or
	// "fingerprint" (header names and order, User-Agent family). Required.
	Key string `yaml:"key"`
	// Class limits only requests of this route class (master_playlist,
	// media_playlist, segment, ondemand, api); "" (unset) or "*": all.
	Class string `yaml:"class"`
	// Paths limits only requests whose path starts with one of these (e.g.
	// ["/api/login", "/api/search"] for a strict limit); each starts with
	// "/". Empty: all paths.
	Paths []string `yaml:"paths"`
	// Rate is the sustained requests per second allowed per key, above 0
	// and at most 1000000. Required.
	Rate float64 `yaml:"rate"`
	// Burst is the bucket size, in requests. Zero (unset): max(1, 2 × Rate).
	Burst int `yaml:"burst"`
}

// Detect tunes the attack detector, which looks at every second of traffic.
type Detect struct {
	// Enabled turns the detector on. Unset (nil): true.
	Enabled *bool `yaml:"enabled"`
	// Interval is the detector's tick. Zero (unset): 1s; from 100ms to 1m.
	Interval time.Duration `yaml:"interval"`
	// Baseline is the half-life of the learned normal traffic. Zero
	// (unset): 10m; from Interval to 24h.
	Baseline time.Duration `yaml:"baseline"`
	// MitigationTTL is how long a mitigation lasts once traffic stops
	// matching it; it is renewed while the attack goes on. Zero (unset):
	// 2m; at most 24h.
	MitigationTTL time.Duration `yaml:"mitigation_ttl"`
	// FalsePositiveBudget is the largest fraction of the baseline's
	// legitimate traffic a mitigation may hit; one that would hit more is
	// not applied. Zero (unset): 0.01; from 0 to 1.
	FalsePositiveBudget float64 `yaml:"false_positive_budget"`
	// BaselineFile is where the learned baseline is saved, so that a
	// restarted edge judges with it from its first second instead of
	// learning again: written every BaselineEvery and on a clean stop
	// (a temporary file renamed over it), loaded at start. Its directory
	// must exist. Empty (unset): not saved; a restart starts cold.
	BaselineFile string `yaml:"baseline_file"`
	// BaselineEvery is how often the baseline is saved to BaselineFile.
	// Zero (unset): 1m; from 1s to 1h.
	BaselineEvery time.Duration `yaml:"baseline_every"`
	// BaselineMaxAge is the age past which a saved baseline is not loaded
	// (the traffic it learned is no longer today's). Zero (unset): 24h;
	// from 1m to 168h (7 days).
	BaselineMaxAge time.Duration `yaml:"baseline_max_age"`
}

// Challenge tunes the proof-of-work challenge shown to new browser
// sessions in attack mode.
type Challenge struct {
	// Difficulty is the number of leading zero bits asked of a solution at
	// rest; it rises with the attack. Zero (unset): 16 (well under a second
	// on a phone); from 1 to MaxDifficulty.
	Difficulty int `yaml:"difficulty"`
	// MaxDifficulty caps the adaptive difficulty, in bits. Zero (unset):
	// 22; from Difficulty to 32.
	MaxDifficulty int `yaml:"max_difficulty"`
	// ClearanceTTL is how long a solved challenge's cookie is valid. Zero
	// (unset): 1h; at most 30 days (720h).
	ClearanceTTL time.Duration `yaml:"clearance_ttl"`
	// KeyFile holds the secret keys that sign clearances, one per line, the
	// first signing and all verifying (rotation); readable when set. Empty:
	// a random key per process (clearances do not survive a restart or span
	// edges).
	KeyFile string `yaml:"key_file"`
	// TokenKeyFile holds the platform's keys for app tokens (the path for
	// non-browser apps): HMAC-SHA256 secrets, one per line; readable when
	// set. Empty: app tokens are not accepted.
	TokenKeyFile string `yaml:"token_key_file"`
}

// Evidence tunes the evidence log of attack traffic.
type Evidence struct {
	// Dir is where the hash-chained log is written. Empty: no evidence is
	// kept.
	Dir string `yaml:"dir"`
	// MaxBytes bounds the log on disk; the oldest files go first. Zero
	// (unset): 1GiB; at least 1MiB when Dir is set.
	MaxBytes ByteSize `yaml:"max_bytes"`
	// SampleRate is the fraction of refused or mitigated requests recorded,
	// at most PerSecond a second. Zero (unset): 0.01; from 0 to 1.
	SampleRate float64 `yaml:"sample_rate"`
	// PerSecond caps records per second. Zero (unset): 100; from 1 to
	// 100000.
	PerSecond int `yaml:"per_second"`
	// KeyFile holds the secret that keys the chain's hashes and the hashes
	// of redacted secrets, kept outside the log: one secret per line, at
	// least 32 bytes, the first signing, all verifying (rotation); no
	// permission for others (0600 or 0640). Missing: a random one is
	// written there, mode 0600, on start. Empty (unset): Dir + ".key";
	// never inside Dir.
	KeyFile string `yaml:"key_file"`
	// HeadFile is where the chain's head (seq, hash, time) is published,
	// replaced atomically when it moves (each second at most), each
	// minute, and on close, for `rempart evidence verify --head`. Empty
	// (unset): Dir + ".head".
	HeadFile string `yaml:"head_file"`
	// Redact names more request headers and query parameters
	// (case-insensitive, exact names) whose values are kept only as a keyed
	// hash, on top of those always redacted (Authorization, Cookie values,
	// and names containing token, key, secret, session, auth, sig, passw,
	// ticket, credential or jwt). Empty: those only; at most 64.
	Redact []string `yaml:"redact"`
}
