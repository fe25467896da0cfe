// Package report holds the result of a siege run: the JSON report (its
// schema is these types; docs/siege.md documents it) and its rendering as a
// self-contained HTML page with plots over time.
package report

import "time"

// Schema is the value of Report.Schema for this version of the format.
const Schema = "rempart-siege/1"

// Report is everything a siege run measured.
type Report struct {
	Schema   string    `json:"schema"`
	Scenario string    `json:"scenario"` // scenario name
	Target   string    `json:"target"`   // base URL attacked
	Started  time.Time `json:"started"`  // wall-clock start
	Seconds  float64   `json:"seconds"`  // run length
	Stopped  string    `json:"stopped"`  // "completed", "interrupted", "request_budget"
	Machine  Machine   `json:"machine"`  // where siege ran
	Phases   []Phase   `json:"phases"`   // the scenario's phases, with their start offsets
	Pops     []Pop     `json:"populations"`
	Series   []Second  `json:"series"` // one entry per second of the run
	Origin   *Origin   `json:"origin,omitempty"`
	// Link is what the shared bottleneck the viewers downloaded through
	// carried; absent when the run had no link.
	Link *Link `json:"link,omitempty"`
	// Admission is the viewers' passage through the target's admission
	// control; absent when no viewer model reported it.
	Admission *Admission `json:"admission,omitempty"`
	Checks    []Check    `json:"thresholds"`
	Pass      bool       `json:"pass"` // every threshold held
}

// Machine describes the host siege ran on.
type Machine struct {
	CPUs      int    `json:"cpus"`
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
}

// Phase is one phase of the scenario as run.
type Phase struct {
	Name  string  `json:"name"`
	Start float64 `json:"start"` // seconds from the run's start
	End   float64 `json:"end"`
}

// Pop is the account of one population over the whole run.
type Pop struct {
	Name     string `json:"name"`
	Model    string `json:"model"`
	Role     string `json:"role"` // "viewer" or "attacker"
	Clients  int64  `json:"clients"`
	Requests int64  `json:"requests"`
	Errors   int64  `json:"errors"` // transport errors and 5xx, holds excepted
	Held     int64  `json:"held"`   // waiting-room holds: 503/429 a viewer waited on (requests, not errors)
	// Challenged counts the proof-of-work challenges (403 pointing at the
	// challenge page) that viewers went on to solve, as a browser's page
	// does: requests, but neither in Status nor in Errors.
	Challenged int64            `json:"challenged,omitempty"`
	Bytes      int64            `json:"bytes"`
	Status     map[string]int64 `json:"status"` // "200", "429", "503", "error"...
	Latency    Percentiles      `json:"latency_ms"`
	// ByKind splits latency by object kind (segment, media_playlist...).
	ByKind  map[string]Percentiles `json:"latency_by_kind_ms,omitempty"`
	MaxConn int64                  `json:"max_connections,omitempty"` // attackers holding connections
	// RefusedAfterS is the time from the population's first answer to its
	// first refusal (403, 429 or 503): for an attacker, how long the target
	// took to mitigate; absent when nothing was refused.
	RefusedAfterS *float64 `json:"refused_after_s,omitempty"`
	Viewers       *Viewers `json:"viewers,omitempty"` // viewer models only
}

// Percentiles of a latency distribution, in milliseconds.
type Percentiles struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P95   float64 `json:"p95"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
}

// Viewers is what a viewer population lived through.
type Viewers struct {
	Viewers        int64   `json:"viewers"`          // viewers whose life ended (all, at the end of a run)
	Started        int64   `json:"started"`          // saw a picture
	StallFree      int64   `json:"stall_free"`       // started and never stalled
	StallFreeRatio float64 `json:"stall_free_ratio"` // StallFree / Viewers
	Stalls         int64   `json:"stalls"`
	StallSeconds   float64 `json:"stall_seconds"`
	Switches       int64   `json:"switches"`
	Errors         int64   `json:"errors"`
	// Refused counts the viewers refused at least once: a 403 or 429 they
	// neither solved nor waited on, or a web page in place of media.
	Refused     int64       `json:"refused"`
	StartupMs   Percentiles `json:"startup_ms"`
	QueuedMs    Percentiles `json:"queued_ms"`
	MeanBitrate float64     `json:"mean_bitrate"` // bits/s
}

// Second is one second of the run.
type Second struct {
	T     int         `json:"t"`     // seconds since start
	Phase string      `json:"phase"` // phase running during that second
	Pops  []PopSecond `json:"populations"`
	// OriginRequests is the origin's request count during that second, when
	// the origin's metrics were read.
	OriginRequests *float64 `json:"origin_requests,omitempty"`
	// Admitted is how many viewers were admitted during that second (all
	// populations; see Admission), when admission was measured.
	Admitted int64 `json:"admitted,omitempty"`
	// LinkMbps is what the link carried during that second, Mbit/s, when
	// the run had a link.
	LinkMbps *float64 `json:"link_mbps,omitempty"`
}

// PopSecond is one population during one second.
type PopSecond struct {
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	Held     int64   `json:"held,omitempty"` // waiting-room holds, not counted in Errors
	Bytes    int64   `json:"bytes"`
	P50      float64 `json:"p50_ms"`
	P99      float64 `json:"p99_ms"`
	Starting int64   `json:"starting"`
	Queued   int64   `json:"queued"`
	Playing  int64   `json:"playing"`
	Stalled  int64   `json:"stalled"`
	Conns    int64   `json:"connections,omitempty"`
}

// ErrorRatio is errors ÷ (requests − held): the share of the requests
// that were answered, not held in a waiting room, and failed. It is 0
// without such requests.
func ErrorRatio(errors, requests, held int64) float64 {
	if d := requests - held; d > 0 {
		return float64(errors) / float64(d)
	}
	return 0
}

// Link is the account of the shared bottleneck (scenario key link): the
// viewers' response bodies, all of them, passed through it.
type Link struct {
	Mbps        float64 `json:"mbps"`        // capacity, Mbit/s, as run (scaled)
	Bytes       int64   `json:"bytes"`       // body bytes carried to the viewers
	MeanMbps    float64 `json:"mean_mbps"`   // Bytes over the run's length
	Utilization float64 `json:"utilization"` // MeanMbps ÷ Mbps
	PeakMbps    float64 `json:"peak_mbps"`   // the busiest second
	// FullSeconds counts the seconds that carried at least 95 % of the
	// capacity: how long the link was the bottleneck.
	FullSeconds int `json:"full_seconds"`
	// DelayS is the time viewers' reads waited for the link, in seconds,
	// summed over the viewers (100 viewers delayed 1 s each: 100).
	DelayS float64 `json:"delay_s"`
}

// Origin is what the origin's (or the target's) Prometheus metrics said.
type Origin struct {
	MetricsURL         string  `json:"metrics_url"`
	Requests           float64 `json:"requests"`             // origin requests during the run, every object
	SegmentRequests    float64 `json:"segment_requests"`     // of which for segments
	SegmentsServed     int64   `json:"segments_served"`      // segment responses to viewers
	RequestsPerSegment float64 `json:"requests_per_segment"` // SegmentRequests / distinct segments viewers fetched
}

// Check is one threshold and whether it held.
type Check struct {
	Expr  string  `json:"expr"`  // as written, e.g. "stall_free_viewers >= 0.99"
	Value float64 `json:"value"` // the measured left-hand side
	Pass  bool    `json:"pass"`
}
