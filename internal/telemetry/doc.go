// Package telemetry owns the request record: the one account of what happened
// to a request (who, which route class, which stage decided, the outcome,
// bytes and latency). Every stage of the pipeline writes to it; metrics, the
// live panel and, later, the detector and evidence read from it. Stages never
// talk to those consumers directly.
//
// The package is a shared leaf: it imports nothing from rempart, so every
// stage may import it.
package telemetry
