// Package scenario is the schema of a siege scenario (who arrives, when, and
// what must hold at the end), its strict YAML loading with errors that name
// the key and the line, and the built-in scenarios shipped in the binary.
//
// A scenario file looks like:
//
//	name: kickoff
//	description: A crowd joins at kickoff.
//	max_duration: 2m
//	max_requests: 5000000
//	populations:
//	  viewers: {model: live-viewer, role: viewer, params: {master: /live/master.m3u8}}
//	  flood:   {model: get-flood, role: attacker, params: {path: /live/master.m3u8}}
//	phases:
//	  - {name: before, duration: 10s, arrivals: {viewers: {rate: 20}}}
//	  - {name: kickoff, duration: 30s, arrivals: {viewers: {ramp: [20, 400]}, flood: {rate: 5000}}}
//	thresholds:
//	  - stall_free_viewers >= 0.99
//
// docs/siege.md documents every key.
package scenario

import (
	"math"
	"time"

	"github.com/rempart/rempart/internal/siege/sim"
)

// Limits that keep a scenario (and a fuzzed file) bounded.
const (
	// DefaultMaxClients is the default cap on clients alive at once.
	DefaultMaxClients = 100_000
	// MaxRate is the largest arrival rate accepted, clients per second.
	MaxRate = 1_000_000
	// MaxRunDuration is the longest max_duration accepted.
	MaxRunDuration = 24 * time.Hour
)

// The roles of a population.
const (
	RoleViewer   = "viewer"
	RoleAttacker = "attacker"
)

// Scenario is one parsed and validated scenario.
type Scenario struct {
	// Name names the scenario in reports.
	Name string
	// Description is one or two sentences for --list.
	Description string
	// MaxDuration is the hard cap on the run, whatever the phases say.
	// Required; at most MaxRunDuration.
	MaxDuration time.Duration
	// MaxRequests is the run's request budget (sim.Budget). Required, > 0.
	MaxRequests int64
	// MaxClients caps the clients alive at once; an arrival beyond it is
	// not started and counted as skipped. Zero in the file means
	// DefaultMaxClients.
	MaxClients int
	// Link is the shared bottleneck the viewer populations download
	// through; its zero value is no link.
	Link Link
	// Populations are the kinds of clients, in file order; a client's
	// sim.Client.Pop is an index into this slice.
	Populations []Population
	// Phases run one after the other.
	Phases []Phase
	// Thresholds decide the exit code: all must hold.
	Thresholds []Threshold
}

// Link is a shared bottleneck of fixed capacity, like the uplink an edge
// sits behind: every viewer's response bodies pass through it, one crowd
// sharing one pipe. Attackers do not use it.
type Link struct {
	// Mbps is the capacity in Mbit/s (10⁶ bits per second), at most
	// link.MaxMbps. Zero means no link: bodies are read as fast as the
	// target sends them.
	Mbps float64
}

// Population is one kind of client.
type Population struct {
	// Name is the key under populations: lower-case letters, digits, - and _.
	Name string
	// Model names the client model (live-viewer, get-flood...).
	Model string
	// Role is RoleViewer or RoleAttacker.
	Role string
	// Lifetime bounds each client's life; zero means until the run ends.
	Lifetime time.Duration
	// Params are handed to the model as sim.Env.Params[pop].
	Params sim.Params
}

// Phase is a stretch of the run with its own arrival rates.
type Phase struct {
	Name     string
	Duration time.Duration
	// Arrivals are the populations arriving in this phase, in population
	// order; a population absent from the list has no arrivals.
	Arrivals []Arrival
}

// Arrival is the open-model arrival process of one population during one
// phase: clients per second, going linearly from From at the phase's start
// to To at its end (From == To for a constant rate).
type Arrival struct {
	Pop      int
	From, To float64
}

// Duration returns the total length of the phases.
func (s *Scenario) Duration() time.Duration {
	var d time.Duration
	for _, p := range s.Phases {
		d += p.Duration
	}
	return d
}

// Scale multiplies every arrival rate, and the link's capacity, by f
// (f > 0), so that a built-in scenario can run small (in tests, on a
// laptop) with the same demand per viewer against the same share of the
// link.
func (s *Scenario) Scale(f float64) {
	s.Link.Mbps *= f
	for i := range s.Phases {
		for j := range s.Phases[i].Arrivals {
			a := &s.Phases[i].Arrivals[j]
			a.From, a.To = a.From*f, a.To*f
		}
	}
}

// Fit shrinks the phases proportionally so that they last d in total,
// keeping the scenario's shape (a quiet start, a ramp, a peak) and each
// phase's rates; the run's cap MaxDuration shrinks by the same factor.
// Fit does nothing when the phases already last d or less.
func (s *Scenario) Fit(d time.Duration) {
	total := s.Duration()
	if d <= 0 || total <= d {
		return
	}
	f := float64(d) / float64(total)
	for i := range s.Phases {
		s.Phases[i].Duration = max(time.Duration(math.Round(float64(s.Phases[i].Duration)*f)), time.Millisecond)
	}
	s.MaxDuration = max(time.Duration(float64(s.MaxDuration)*f), s.Duration())
}

// ExpectedClients returns how many clients of population pop the phases
// schedule in total.
func (s *Scenario) ExpectedClients(pop int) float64 {
	var n float64
	for _, ph := range s.Phases {
		for _, a := range ph.Arrivals {
			if a.Pop == pop {
				n += (a.From + a.To) / 2 * ph.Duration.Seconds()
			}
		}
	}
	return n
}
