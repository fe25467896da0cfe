// Package config owns rempart's configuration: the schema (these structs,
// whose field docs double as the user documentation), the defaults (filled in
// one place, Defaults), strict loading (unknown keys are errors) and
// validation that names the key, the bad value and what would be valid.
//
// A zero (unset) field takes the default named in its comment. Durations
// are written like 5s, 250ms or 1m30s; sizes like 256MiB or 4096 (bytes).
// rempart.example.yaml at the repository root shows every key, and
// docs/configuration.md is the reference.
package config

import (
	"time"
)

// Config is the whole configuration of one edge (`rempart serve`).
type Config struct {
	// Listen is the public address, host:port; an empty host listens on
	// every interface, port 0 picks a free port. Default "127.0.0.1:8080".
	Listen string `yaml:"listen"`
	// TLS, when both files are set, serves HTTPS with HTTP/2 on Listen.
	// Zero (both empty): plain HTTP.
	TLS TLS `yaml:"tls"`
	// H2C allows cleartext HTTP/2 (prior knowledge) on Listen, for loopback
	// tests and internal hops. Default false.
	H2C bool `yaml:"h2c"`
	// Admin is the operator listener: metrics, health, pprof.
	Admin Admin `yaml:"admin"`
	// Limits bound what a client may cost the edge.
	Limits Limits `yaml:"limits"`
	// Cache sizes the shared in-memory object store.
	Cache Cache `yaml:"cache"`
	// Shield defends the edge and the origin: connection caps, rate
	// limits, block and allow lists, the attack detector, the challenge
	// and the evidence log.
	Shield Shield `yaml:"shield"`
	// Sites are the platforms served, chosen by the request's Host. At least
	// one; no default.
	Sites []Site `yaml:"sites"`
}

// TLS names the certificate and key files for HTTPS. Both empty: plain HTTP.
// Both must be set or neither, and both readable.
type TLS struct {
	// CertFile is the path of a PEM certificate chain. Default "" (no TLS).
	CertFile string `yaml:"cert_file"`
	// KeyFile is the path of the PEM private key for CertFile. Default "".
	KeyFile string `yaml:"key_file"`
}

// Admin configures the operator listener.
type Admin struct {
	// Listen is the admin address, host:port. Default "127.0.0.1:9090";
	// "off" disables it. It serves /metrics, /healthz, /readyz and
	// /debug/pprof/: keep it private. It must differ from Config.Listen.
	Listen string `yaml:"listen"`
	// Pprof enables /debug/pprof/ on the admin listener. Unset (nil): true.
	Pprof *bool `yaml:"pprof"`
}

// Limits bound a client's cost on the public listener. Every duration must
// be above zero once defaults are filled.
type Limits struct {
	// ReadHeaderTimeout is how long a client may take to send its request
	// headers (slowloris defence). Default 5s; at most 1m and at most
	// ReadTimeout.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request, body included. Default
	// 30s; at most 10m.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// WriteTimeout bounds writing one response. It must cover the largest
	// object to the slowest viewer you want to keep. Default 60s; at most 1h.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// IdleTimeout closes keep-alive connections idle this long. Default 60s;
	// at most 1h.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxHeaderBytes caps the request line and headers, in bytes. Default
	// 16384; from 1024 to 1048576.
	MaxHeaderBytes int `yaml:"max_header_bytes"`
	// ShutdownTimeout is how long a graceful stop waits for requests in
	// flight before closing them. Default 10s; at most 10m.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// Cache sizes the object store shared by all sites.
type Cache struct {
	// MaxBytes bounds the memory held by cached bodies and headers, e.g.
	// "512MiB". Default 256MiB; from 1MiB to 1TiB.
	MaxBytes ByteSize `yaml:"max_bytes"`
	// MaxObjectBytes is the largest body stored; larger ones are passed
	// through uncached. Default 32MiB; at most MaxBytes.
	MaxObjectBytes ByteSize `yaml:"max_object_bytes"`
	// WaitTimeout bounds how long a request waits on another request's origin
	// fetch for its first byte before it gets a stale copy or an error.
	// Default 10s; at most 5m.
	WaitTimeout time.Duration `yaml:"wait_timeout"`
}

// Site is one platform: the Hosts it answers for, its origins, and how its
// route classes are cached.
type Site struct {
	// Name identifies the site in metrics and logs: 1 to 32 characters of
	// a-z 0-9 _ -, unique among sites. Required.
	Name string `yaml:"name"`
	// Hosts are the host names (or IP addresses) this site answers, without
	// port: a request's Host header matches ignoring its port and case
	// (Defaults lowercases these). A host belongs to one site only. "*"
	// makes the site the default for unknown Hosts, in one site at most;
	// without a default, unknown Hosts get 421. At least one.
	Hosts []string `yaml:"hosts"`
	// Origins are the only servers this site ever contacts, tried in order
	// (later ones on failure of earlier ones). At least one.
	Origins []Origin `yaml:"origins"`
	// Upstream tunes the connection to the origins.
	Upstream Upstream `yaml:"upstream"`
	// Routes override the built-in classification, first match wins. The
	// built-in rules follow them: *.m3u8 playlist, .ts .m4s .mp4 .aac .vtt
	// segment, .mp3 .m4a .flac .ogg .opus .wav on-demand, the rest api.
	// Default: none.
	Routes []Route `yaml:"routes"`
	// Classes tunes caching per route class; keys are class names
	// (master_playlist, media_playlist, segment, ondemand, api). Missing
	// classes and missing fields take the defaults in ClassDefaults.
	Classes map[string]ClassPolicy `yaml:"classes"`
	// Admission caps the site's viewers and queues the rest
	// (docs/admission.md). Default: off.
	Admission Admission `yaml:"admission"`
	// Streams judges media requests by the site's live playlists: unlisted
	// segments are refused by the edge. Default: on (unlisted: refuse).
	Streams Streams `yaml:"streams"`
	// UnknownGate answers segment misses for names no stream lists (and the
	// cache never had) with a local 404 while, over the last 30s, at least
	// 16 of them got an answer under 500 from the origin and 90 % or more
	// got 404 or 410; one a second still goes to the origin, and the gate
	// reopens as soon as one finds an object or after 30s without such
	// misses. It acts only where the edge knows which names a stream
	// lists, outside the places the stream stage judges. Unset (nil): true.
	UnknownGate *bool `yaml:"unknown_gate"`
	// SharedHeaders are the request headers a shared origin fetch carries
	// from the client: the one fetch of a cacheable object that every
	// viewer asking for it waits on. Every other header is dropped from
	// it, so one client's headers never shape, or spoil, what the others
	// are served. Each header listed is part of the cache key: only
	// requests that agree on all of them share a fetch and an object, so
	// list few, with few values (Accept-Encoding when the origin
	// compresses, say). Matched ignoring case; at most 16. Credentials,
	// ranges and conditionals, framing, hop-by-hop, forwarding, and method
	// or path override headers cannot be listed. Private passes (API
	// requests, answers that cannot be shared) forward the client's
	// headers regardless. Default: none.
	SharedHeaders []string `yaml:"shared_headers"`
}

// Origin is one origin server.
type Origin struct {
	// URL is the origin's base, http:// or https:// with a host, and no
	// query, fragment or user info. A path prefix is prepended to request
	// paths. Required.
	URL string `yaml:"url"`
}

// Upstream tunes the client that talks to a site's origins. Every duration
// must be above zero once defaults are filled.
type Upstream struct {
	// ConnectTimeout bounds a TCP (and TLS) connect. Default 2s; at most 1m.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// ResponseHeaderTimeout bounds the wait for the origin's response
	// headers. Default 5s; at most 10m and at most FetchTimeout.
	ResponseHeaderTimeout time.Duration `yaml:"response_header_timeout"`
	// FetchTimeout bounds a whole origin fetch, body included. Default 30s;
	// at most 1h.
	FetchTimeout time.Duration `yaml:"fetch_timeout"`
	// MaxConcurrency caps requests in flight to each origin. Default 256;
	// from 1 to 100000.
	MaxConcurrency int `yaml:"max_concurrency"`
	// QueueTimeout is how long a fetch waits for a free slot under
	// MaxConcurrency before failing as overloaded. Default 1s; at most 1m.
	QueueTimeout time.Duration `yaml:"queue_timeout"`
	// MaxIdleConns keeps this many idle connections per origin. Default 64;
	// from 1 to 100000.
	MaxIdleConns int `yaml:"max_idle_conns"`
	// Retries is how many times an idempotent request (GET, HEAD) is retried
	// on a connection error or a 502/503/504, on the next origin. Unset
	// (nil): 1; 0 disables retries; at most 5.
	Retries *int `yaml:"retries"`
	// BreakerFailures consecutive failures open an origin's circuit breaker.
	// Default 5; from 1 to 1000.
	BreakerFailures int `yaml:"breaker_failures"`
	// BreakerCooldown is how long an open breaker refuses before it lets one
	// probe request through. Default 5s; at most 10m.
	BreakerCooldown time.Duration `yaml:"breaker_cooldown"`
	// Adaptive adjusts the concurrency toward the origins under
	// MaxConcurrency from observed latency. Default: off.
	Adaptive AdaptiveConcurrency `yaml:"adaptive"`
	// UnknownShare is the fraction of each origin's slots that fetches of
	// unknown objects (neither listed by a stream nor seen by the cache)
	// may hold while known fetches flow; known fetches are served first,
	// and when none came for a second the unknown ones may use every
	// slot. 1: one lane, as before lanes. Default 0.25; above 0, at most 1.
	UnknownShare float64 `yaml:"unknown_share"`
}

// Route maps matching requests to a class. All set matchers must match; at
// least one of Prefix and Suffix must be set.
type Route struct {
	// Prefix matches the start of the path, e.g. "/vod/"; starts with "/".
	// Empty: any path.
	Prefix string `yaml:"prefix"`
	// Suffix matches the end of the path, e.g. ".mp4". Empty: any path.
	Suffix string `yaml:"suffix"`
	// Class is the class name given to matching requests: master_playlist,
	// media_playlist, segment, ondemand or api. Required.
	Class string `yaml:"class"`
}

// ClassPolicy tunes caching for one route class. A nil (unset) field takes
// the class default from ClassDefaults. Durations are from 0s to a year.
type ClassPolicy struct {
	// TTL is the freshness used when the origin gives none
	// (Cache-Control max-age/s-maxage, Expires). 0 stores nothing unless the
	// origin allows it explicitly.
	TTL *time.Duration `yaml:"ttl"`
	// MaxTTL caps the freshness the origin asks for. 0: no cap. For media
	// playlists half the target duration always caps it too.
	MaxTTL *time.Duration `yaml:"max_ttl"`
	// StaleWhileRevalidate serves a copy this long past freshness while one
	// background fetch refreshes it. 0: never.
	StaleWhileRevalidate *time.Duration `yaml:"stale_while_revalidate"`
	// StaleIfError serves a copy this long past freshness when the origin is
	// down, answers 5xx or times out. 0: never, except for media playlists
	// where 0 means one target duration, the longest a live player may see
	// a frozen playlist.
	StaleIfError *time.Duration `yaml:"stale_if_error"`
	// NegativeTTL caches 404 and 410 answers this long. 0: not cached.
	NegativeTTL *time.Duration `yaml:"negative_ttl"`
	// QueryKeep lists the query parameters kept in the cache key and sent to
	// the origin; all others are dropped, so random query strings never cause
	// a fetch. ["*"] keeps the whole query; [] keeps none; unset (nil): the
	// class default (none, except api: all). Names are non-empty and "*"
	// stands alone.
	QueryKeep []string `yaml:"query_keep"`
}
