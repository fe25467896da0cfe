// Package synth is the synthetic streaming platform behind `rempart origin`
// and `rempart demo`: a live HLS stream re-timed from a small pre-encoded
// loop, an on-demand audio area with Range support, and a small JSON API.
package synth
