// Package mitigation is the shared vocabulary of automatic defences: what
// the detector decides (a Mitigation, with its reason and time to live) and
// what the filter stage applies. Neither side imports the other: the edge
// wires the detector to an Actuator the filter implements.
package mitigation

import (
	"net/netip"
	"time"
)

// Kind is what a mitigation does.
type Kind string

// The kinds of mitigation.
const (
	// BlockPrefix refuses every request from Prefix (403).
	BlockPrefix Kind = "block_prefix"
	// ThrottleFingerprint limits requests carrying Fingerprint to Rate per
	// second per client address, or, with Aggregate, per second for all
	// addresses together (a low-and-slow botnet keeps every bot under any
	// per-address rate).
	ThrottleFingerprint Kind = "throttle_fingerprint"
	// StripParams drops every query parameter of Class from cache keys and
	// origin requests (cache-busting defence).
	StripParams Kind = "strip_params"
	// ShedRoute refuses requests to Path (an expensive endpoint) beyond
	// Rate per second overall, with 503 and Retry-After.
	ShedRoute Kind = "shed_route"
	// AttackMode challenges new browser sessions with proof of work.
	AttackMode Kind = "attack_mode"
	// ChallengePrefix is attack mode for the clients of Prefix alone: the
	// neighbours of attacking addresses, where a viewer may arrive too,
	// solve the challenge rather than meet a block.
	ChallengePrefix Kind = "challenge_prefix"
)

// Mitigation is one automatic (or operator) action, explainable: what
// triggered it, what it does, until when.
type Mitigation struct {
	ID          string       `json:"id"` // stable for the same kind and target, so renewals replace
	Kind        Kind         `json:"kind"`
	Prefix      netip.Prefix `json:"prefix,omitzero"`
	Fingerprint uint64       `json:"fingerprint,omitempty"`
	Class       string       `json:"class,omitempty"`
	Path        string       `json:"path,omitempty"`
	Rate        float64      `json:"rate,omitempty"`
	Aggregate   bool         `json:"aggregate,omitempty"` // Rate is shared by all addresses, not per address
	Reason      string       `json:"reason"`              // human-readable: the verdict and the features behind it
	Source      string       `json:"source"`              // "detector", "operator", "file"
	Since       time.Time    `json:"since"`               // first applied
	Until       time.Time    `json:"until"`               // expires unless renewed
	Hits        uint64       `json:"hits,omitempty"`      // requests it refused or changed so far
	Shadow      bool         `json:"shadow,omitempty"`    // decided but not enforced (shield mode shadow)
}

// Actuator applies and lifts mitigations. Apply clamps what it cannot do
// (a too-wide prefix, a rate out of bounds) and returns what it applied;
// applying an existing ID renews it.
type Actuator interface {
	Apply(m Mitigation) (applied Mitigation, err error)
	Lift(id string) bool
	Active(now time.Time) []Mitigation
}
