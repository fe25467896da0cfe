// Package sim is the contract between the siege runner and the client
// models (viewers and attackers): what a model is given (Env), what it
// reports (Recorder), and how it is started (Model). The runner and the
// models import it, never each other; it imports only link, the shared
// bottleneck it hands the viewer models.
package sim

import (
	"context"
	"net"
	"net/netip"
	"net/url"
	"time"

	"github.com/rempart/rempart/internal/siege/link"
)

// Model is one kind of client. The runner calls Run once per arriving
// client, in its own goroutine, with the client's identity; Run returns when
// the client's life is over or ctx is done (end of its phase or of the run).
// A model must return promptly after ctx is done and must never send a
// request that Env.Budget refuses.
type Model interface {
	Run(ctx context.Context, env *Env, c Client)
}

// Client identifies one simulated client.
type Client struct {
	// ID is unique within the run, counting from 0 in arrival order.
	ID int64
	// Pop is the index of the client's population in the scenario; pass it
	// back to the Recorder.
	Pop int
	// Source is the local address the client sends from (a distinct
	// 127.x.y.z per client on loopback targets, so per-IP logic sees
	// distinct people). Invalid means the system's choice.
	Source netip.Addr
	// Intended is when the arrival process scheduled this client. Latency of
	// its first request counts from here (no coordinated omission).
	Intended time.Time
}

// Env is what every model is given. It is shared by all clients of a run
// and safe for concurrent use.
type Env struct {
	// Target is the base URL of the system under test (scheme, host, port;
	// an optional path prefix). Requests go there and nowhere else.
	Target *url.URL
	// Host, when set, is sent as the Host header instead of Target's host.
	Host string
	// Params are the population's model parameters from the scenario
	// (e.g. "path", "rate", "user_agent"), indexed by Client.Pop.
	Params []Params
	// Now is the run's clock.
	Now func() time.Time
	// Dial opens a TCP connection to the target from src (invalid src: the
	// system's choice). It honours ctx and the run's connect timeout.
	Dial func(ctx context.Context, src netip.Addr) (net.Conn, error)
	// Budget bounds the run's total requests; models ask it before each.
	Budget *Budget
	// Rec receives every measurement.
	Rec Recorder
	// Link is the bottleneck every viewer model reads its response bodies
	// through (link.Reader), shared by all viewers of the run; attackers
	// do not use it. Nil: no link, bodies are read as fast as they come.
	Link *link.Link
}

// Params are one population's model parameters, as written in the scenario.
// Models read them with the typed getters, which fall back to a default.
type Params map[string]any

// Recorder receives the measurements of a run. Implementations are safe for
// concurrent use and cheap (no allocation per call on the hot path).
type Recorder interface {
	// Request records one HTTP exchange: when it was meant to be sent (for
	// open-model floods, the scheduled time; for a player, when it needed
	// the object), its latency from then to the end of the body (or to the
	// failure), the status (0 when no response), body bytes and error.
	// A waiting-room hold that the model honours is reported with its
	// status and err ErrHeld (wrapped or not): counted as held, not as an
	// error.
	Request(pop int, kind Kind, intended time.Time, latency time.Duration, status int, bytes int64, err error)
	// State moves one client of pop from one viewer state to another; the
	// runner keeps per-state gauges. A client starts in StateNone.
	State(pop int, from, to State)
	// Viewer records the summary of one viewer when its life ends.
	Viewer(pop int, v ViewerSummary)
	// Conn counts connections an attacker holds open (+1 open, -1 closed).
	Conn(pop int, delta int)
}

// ParamChecker is implemented by models that check their parameters when
// the scenario is loaded, so that a bad value is a scenario error naming
// its line rather than a run that fails at its first client.
type ParamChecker interface {
	// CheckParams returns an error naming the bad key, its value and what
	// would be valid; nil when p is fine for the model.
	CheckParams(p Params) error
}

// Kind tells what a request was for, to split latency by object.
type Kind uint8

// The request kinds.
const (
	KindOther    Kind = iota
	KindMaster        // master playlist
	KindMedia         // media playlist
	KindSegment       // media segment
	KindOnDemand      // on-demand file (range) request
	KindAPI           // app API call
	KindAttack        // attack request
	NumKinds
)

// State is where a viewer is in its life.
type State uint8

// The viewer states.
const (
	StateNone     State = iota
	StateStarting       // joined, no picture yet
	StateQueued         // held in a waiting room (503/429 with Retry-After, or a queue page)
	StatePlaying        // picture moving
	StateStalled        // buffer empty after playback started
	StateDone           // left (end of life or of the run)
	NumStates
)

// ViewerSummary is what one viewer lived through.
type ViewerSummary struct {
	Started   bool          // the picture started at least once
	Startup   time.Duration // join to first picture (queue time included)
	Queued    time.Duration // total time held in a waiting room
	Stalls    int           // times the buffer ran dry after start
	StallTime time.Duration // total time stalled
	Switches  int           // rendition changes
	Errors    int           // failed requests (after retries)
	// Refused says the viewer was refused at least once: a 403 or 429 it
	// neither solved (a challenge) nor waited on (a waiting-room hold), or
	// a web page where it asked for a playlist or a segment.
	Refused bool
	Watched time.Duration // media time played
	Bitrate int           // average bitrate played, bits/s (0: unknown)
	// Admission is what the viewer lived through at the target's admission
	// control (waiting room, sessions); nil for models that do not report
	// it. The runner builds the report's admission section from these.
	Admission *Admission
}
