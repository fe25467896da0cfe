package telemetry

import (
	"fmt"
	"strings"
)

// Class is the route class of a request: what kind of object it asks for.
// Freshness, cache keys and (later) limits are decided per class.
type Class uint8

// The route classes. ClassUnknown is the zero value: a request refused before
// it was routed has no class.
const (
	ClassUnknown  Class = iota
	ClassMaster         // HLS master (multivariant) playlist
	ClassMedia          // HLS media playlist
	ClassSegment        // media segment or part: .ts .m4s .mp4 .aac .vtt
	ClassOnDemand       // on-demand file (music track, VOD file)
	ClassAPI            // the app's API and everything else
	NumClasses          // number of classes, for arrays indexed by Class
)

var classNames = [NumClasses]string{
	ClassUnknown:  "unknown",
	ClassMaster:   "master_playlist",
	ClassMedia:    "media_playlist",
	ClassSegment:  "segment",
	ClassOnDemand: "ondemand",
	ClassAPI:      "api",
}

// String returns the class name used in configuration and metrics.
func (c Class) String() string {
	if c >= NumClasses {
		return "invalid"
	}
	return classNames[c]
}

// ParseClass returns the class named s (as in configuration files).
func ParseClass(s string) (Class, error) {
	for c := ClassMaster; c < NumClasses; c++ {
		if classNames[c] == s {
			return c, nil
		}
	}
	return ClassUnknown, fmt.Errorf("unknown route class %q (valid: %s)", s, strings.Join(ClassNames(), ", "))
}

// ClassNames lists the names of the routable classes, in order.
func ClassNames() []string {
	return append([]string(nil), classNames[ClassMaster:]...)
}

// Outcome is how a request ended, as counted in metrics.
type Outcome uint8

// The outcomes. OutcomeNone is the zero value: the request is still running.
const (
	OutcomeNone      Outcome = iota
	OutcomeHit               // served from a fresh cached copy
	OutcomeMiss              // fetched from the origin for this request
	OutcomeCoalesced         // joined another request's origin fetch
	OutcomeStale             // served a stale copy (revalidating or origin failing)
	OutcomePass              // not cacheable: passed to the origin as is
	OutcomeRefused           // refused by the edge (bad request, unknown host, limit)
	OutcomeError             // the edge could not get an answer (origin down, timeout)
	NumOutcomes
)

var outcomeNames = [NumOutcomes]string{
	OutcomeNone:      "none",
	OutcomeHit:       "hit",
	OutcomeMiss:      "miss",
	OutcomeCoalesced: "coalesced",
	OutcomeStale:     "stale",
	OutcomePass:      "pass",
	OutcomeRefused:   "refused",
	OutcomeError:     "error",
}

// String returns the outcome name used in metrics.
func (o Outcome) String() string {
	if o >= NumOutcomes {
		return "invalid"
	}
	return outcomeNames[o]
}
