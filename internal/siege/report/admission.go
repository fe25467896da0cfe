package report

// Admission is what the viewers lived through at the target's admission
// control (docs/admission.md): who queued and who was admitted, whether
// places went in order (FIFO), whether the waits displayed came true, and
// whether the admitted viewers played without a stall. It covers every
// viewer population whose model reports admission (live-viewer does).
type Admission struct {
	Viewers           int64 `json:"viewers"`             // viewers that sent a request
	AdmittedDirectly  int64 `json:"admitted_directly"`   // admitted without being held
	Queued            int64 `json:"queued"`              // given a ticket (or held by a 503 with Retry-After)
	AdmittedFromQueue int64 `json:"admitted_from_queue"` // queued, then admitted
	StillWaiting      int64 `json:"still_waiting"`       // queued, still waiting when the run ended
	GaveUp            int64 `json:"gave_up"`             // queued, left unadmitted before the end (patience, lifetime, errors)
	NotAdmitted       int64 `json:"not_admitted"`        // never admitted, for whatever reason
	Refused           int64 `json:"refused"`             // refused (403 "refused") at least once
	// RefusedReasons counts the refused viewers by the reason of their
	// first refusal.
	RefusedReasons map[string]int64 `json:"refused_reasons,omitempty"`
	Limited        int64            `json:"limited"`              // told 429 "limited" at least once
	Requeued       int64            `json:"requeued"`             // admitted, then queued again (session lost)
	Unrecorded     int64            `json:"unrecorded,omitempty"` // viewers beyond the records kept (counted in Viewers only)
	// QueueTime is, for viewers admitted from the queue, the time from
	// their first ticket to their admission, in seconds.
	QueueTime    Spread       `json:"queue_time_s"`
	FIFO         FIFO         `json:"fifo"`
	WaitAccuracy WaitAccuracy `json:"wait_accuracy"`
	Playback     Playback     `json:"admitted_playback"`
	// Renditions share the admitted viewers' played time by rendition,
	// lowest bandwidth first.
	Renditions []RenditionShare `json:"renditions,omitempty"`
}

// Spread summarizes a distribution of seconds.
type Spread struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50"`
	P95   float64 `json:"p95"`
	Max   float64 `json:"max"`
}

// FIFO counts the places granted out of order. A violation is a pair of
// admitted viewers (A, B) where A had its ticket before B sent its first
// request, yet B's admission sequence number (X-Rempart-Admitted) is lower
// than A's.
type FIFO struct {
	// Measured is false when no admitted viewer was told its sequence
	// number: order cannot be judged, and fifo thresholds fail.
	Measured bool `json:"measured"`
	// Sequenced counts the admitted viewers with a sequence number; those
	// without one are left out of the count.
	Sequenced       int64 `json:"sequenced"`
	Violations      int64 `json:"violations"`       // pairs
	ViewersInvolved int64 `json:"viewers_involved"` // viewers in at least one pair
}

// WaitAccuracy compares, for viewers admitted from the queue, the first
// wait displayed with the wait that followed (from that answer to the
// admission). Errors are relative: |displayed − actual| ÷ actual.
type WaitAccuracy struct {
	Count int64 `json:"count"` // viewers admitted from the queue who were shown a wait
	// Within counts those within 30 % of the actual wait, or within one
	// polling interval of it (siege knows the moment of admission only to
	// that resolution).
	Within      int64   `json:"within"`
	WithinRatio float64 `json:"within_30pct"` // Within ÷ Count
	ErrorP50    float64 `json:"error_p50"`
	ErrorP95    float64 `json:"error_p95"`
}

// Playback is what the admitted viewers lived through once admitted.
type Playback struct {
	// Viewers counts the admitted viewers judged: all of them but those
	// the run's end cut off less than 10 s after their admission, before
	// their first picture (UnstartedAtEnd).
	Viewers        int64   `json:"viewers"`
	StallFree      int64   `json:"stall_free"` // started and never stalled
	StallFreeRatio float64 `json:"stall_free_ratio"`
	UnstartedAtEnd int64   `json:"unstarted_at_end"`
	// MeanBitrate is the admitted viewers' received bitrate, bits/s,
	// weighted by time played.
	MeanBitrate float64 `json:"mean_bitrate"`
}

// RenditionShare is the admitted viewers' played time at one rendition.
type RenditionShare struct {
	Rendition string  `json:"rendition"` // its media playlist's path
	Bandwidth float64 `json:"bandwidth"` // bits/s, as received
	Seconds   float64 `json:"seconds"`   // media time played
	Share     float64 `json:"share"`     // of all the admitted viewers' played time
}
