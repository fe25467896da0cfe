// Package admission is the admit stage of the request's way: sessions,
// capacity, the waiting room, bitrate degradation and playback tokens
// (docs/admission.md).
//
// A Room holds one site's state: the sessions admitted (each a place), the
// tickets waiting for one, the admission rate, the egress meter and the
// degradation level. It outlives configuration reloads. A Stage is the
// http.Handler that puts a Room in front of a site's cache: gated requests
// pass with a valid session, or are admitted if a place is free and nobody
// waits, or are given a ticket and told when to come back.
package admission
