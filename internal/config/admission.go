package config

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
)

// Admission configures a site's admission control: sessions, capacity, the
// waiting room, bitrate degradation and playback tokens (docs/admission.md).
type Admission struct {
	// Mode is "on" (gated requests need a session; newcomers queue when the
	// site is full) or "off" (no admission stage). Zero (""): "off".
	Mode string `yaml:"mode"`
	// MaxSessions is the most sessions (viewers) admitted at once. Zero
	// (unset): no cap but the session table's bound (10000000, past which
	// newcomers queue); at most 100000000.
	MaxSessions int `yaml:"max_sessions"`
	// MaxEgress is the edge's egress capacity for this site, in Mbit/s:
	// above Degrade.High of it renditions are dropped. Zero (unset): no cap,
	// no degradation; at most 10000000.
	MaxEgress float64 `yaml:"max_egress"`
	// AdmitRate is the most new sessions per second. Zero (unset): no limit;
	// at most 1000000.
	AdmitRate float64 `yaml:"admit_rate"`
	// AdmitBurst is how many sessions may be admitted at once before
	// AdmitRate applies. Zero (unset): AdmitRate rounded up, at least 1;
	// at most 1000000.
	AdmitBurst int `yaml:"admit_burst"`
	// Gate lists the route classes that need a session. Unset: the master
	// playlist, media playlists and segments.
	Gate []string `yaml:"gate"`
	// GatePages also gates browser navigations (page loads) to any path of
	// the site: the page hosting the player waits in the room, and the
	// waiting page is shown. Default false.
	GatePages bool `yaml:"gate_pages"`
	// SessionIdle is how long a session lives without a gated request; then
	// its place is freed. Zero (unset): 30s; from 1s to 1h.
	SessionIdle time.Duration `yaml:"session_idle"`
	// SessionMaxAge is the longest a session lives, active or not. Zero
	// (unset): 12h; from 1m to 168h.
	SessionMaxAge time.Duration `yaml:"session_max_age"`
	// KeysFile holds the HMAC secrets signing sessions and tickets, one per
	// line (# comments), at least 16 bytes each; the first signs, all
	// verify. Empty: a random secret per process (sessions then do not
	// survive a restart).
	KeysFile string `yaml:"keys_file"`
	// Queue tunes the waiting room.
	Queue Queue `yaml:"queue"`
	// Degrade tunes bitrate degradation under egress pressure.
	Degrade Degrade `yaml:"degrade"`
	// Tokens configures the platform's playback tokens.
	Tokens PlaybackTokens `yaml:"tokens"`
}

// Queue tunes a site's waiting room.
type Queue struct {
	// Order is "fifo" (places go to tickets in their order) or "raffle"
	// (each place is drawn among the waiting tickets). Zero (""): "fifo".
	Order string `yaml:"order"`
	// MaxLength is the most tickets waiting; past it newcomers are told to
	// come back later (503). Zero (unset): 1000000; at most 100000000.
	MaxLength int `yaml:"max_length"`
	// GrantHold is how long a place granted to a ticket is held for its
	// holder to come back. Zero (unset): 15s; from 1s to 10m.
	GrantHold time.Duration `yaml:"grant_hold"`
	// AbandonAfter drops a waiting ticket not presented for that long (its
	// holder left). Zero (unset): 60s; from 5s to 1h.
	AbandonAfter time.Duration `yaml:"abandon_after"`
	// PollMin and PollMax bound the Retry-After told to waiting clients
	// (jittered between them; shorter near the head). Zero (unset): 1s and
	// 10s; PollMin from 100ms, PollMax at most 5m and under AbandonAfter.
	PollMin time.Duration `yaml:"poll_min"`
	PollMax time.Duration `yaml:"poll_max"`
	// TicketRate and TicketBurst limit new tickets per client address, per
	// second. Zero (unset): 1 and 5.
	TicketRate  float64 `yaml:"ticket_rate"`
	TicketBurst int     `yaml:"ticket_burst"`
	// PrefixRate and PrefixBurst limit new tickets per client network (IPv4
	// /24, IPv6 /64), per second. Zero (unset): 50 and 200.
	PrefixRate  float64 `yaml:"prefix_rate"`
	PrefixBurst int     `yaml:"prefix_burst"`
	// EventStart, an RFC 3339 time, opens the doors of a scheduled event:
	// tickets taken in the PreQueue before it are shuffled at that time,
	// then FIFO applies. Empty: no event.
	EventStart string `yaml:"event_start"`
	// PreQueue is how long before EventStart the pre-queue opens. Zero
	// (unset): 30m; at most 168h.
	PreQueue time.Duration `yaml:"prequeue"`
}

// Degrade tunes bitrate degradation: with MaxEgress set, renditions are
// dropped from the master playlist when egress passes High × MaxEgress and
// restored under Low × MaxEgress.
type Degrade struct {
	// Enabled turns degradation on when MaxEgress is set. Unset: true.
	Enabled *bool `yaml:"enabled"`
	// High is the share of MaxEgress above which the level rises. Zero
	// (unset): 0.9; in (0, 1].
	High float64 `yaml:"high"`
	// Low is the share under which the level falls. Zero (unset): 0.7;
	// in (0, High).
	Low float64 `yaml:"low"`
	// Hold is the least time between two level changes (hysteresis), and
	// the window egress is averaged over. Zero (unset): 5s; from 1s to 10m.
	Hold time.Duration `yaml:"hold"`
}

// PlaybackTokens configures the platform's playback tokens (JWT, HS256 or
// EdDSA), checked at the edge on gated requests.
type PlaybackTokens struct {
	// KeysFile holds the platform's keys: HMAC secrets one per line, Ed25519
	// public keys as PEM blocks. Empty: tokens are not checked.
	KeysFile string `yaml:"keys_file"`
	// Audience is the "aud" a token must name. Zero (""): "rempart".
	Audience string `yaml:"audience"`
	// Required refuses gated requests without a valid token. Default false
	// (a token, when present, must still be valid).
	Required bool `yaml:"required"`
	// MaxStreamsPerAccount bounds the sessions one account ("sub") holds at
	// once. Zero (unset): no limit; at most 1000.
	MaxStreamsPerAccount int `yaml:"max_streams_per_account"`
}

// AdaptiveConcurrency tunes the adaptive limit on concurrent requests to a
// site's origins (gradient style): the limit grows while latency stays near
// its no-load value and shrinks as latency rises, so the origin's knee is
// found rather than guessed. MaxConcurrency stays the hard ceiling.
type AdaptiveConcurrency struct {
	// Enabled turns the adaptive limit on. Default false.
	Enabled bool `yaml:"enabled"`
	// MinLimit is the lowest the limit goes. Zero (unset): 4; at least 1.
	MinLimit int `yaml:"min_limit"`
	// InitialLimit is where the limit starts. Zero (unset): 32; from
	// MinLimit to MaxConcurrency.
	InitialLimit int `yaml:"initial_limit"`
	// Tolerance is how much latency may grow over its no-load value before
	// the limit shrinks (1.5 = 50 % more). Zero (unset): 1.5; from 1 to 10.
	Tolerance float64 `yaml:"tolerance"`
	// Window is how often the limit is recomputed from the latencies seen.
	// Zero (unset): 1s; from 100ms to 1m.
	Window time.Duration `yaml:"window"`
}

// DefaultGate is the route classes a session is needed for when
// admission.gate is unset: everything a live player fetches.
func DefaultGate() []string {
	return []string{"master_playlist", "media_playlist", "segment"}
}

func (a *Admission) defaults() {
	setDefault(&a.Mode, "off")
	if a.AdmitBurst == 0 && a.AdmitRate > 0 {
		a.AdmitBurst = max(1, int(math.Ceil(a.AdmitRate)))
	}
	if a.Gate == nil {
		a.Gate = DefaultGate()
	}
	setDefault(&a.SessionIdle, 30*time.Second)
	setDefault(&a.SessionMaxAge, 12*time.Hour)
	q := &a.Queue
	setDefault(&q.Order, "fifo")
	setDefault(&q.MaxLength, 1000000)
	setDefault(&q.GrantHold, 15*time.Second)
	setDefault(&q.AbandonAfter, 60*time.Second)
	setDefault(&q.PollMin, time.Second)
	setDefault(&q.PollMax, 10*time.Second)
	setDefault(&q.TicketRate, 1)
	setDefault(&q.TicketBurst, 5)
	setDefault(&q.PrefixRate, 50)
	setDefault(&q.PrefixBurst, 200)
	setDefault(&q.PreQueue, 30*time.Minute)
	d := &a.Degrade
	setDefaultPtr(&d.Enabled, true)
	setDefault(&d.High, 0.9)
	setDefault(&d.Low, 0.7)
	setDefault(&d.Hold, 5*time.Second)
	setDefault(&a.Tokens.Audience, "rempart")
}

func (a *AdaptiveConcurrency) defaults() {
	setDefault(&a.MinLimit, 4)
	setDefault(&a.InitialLimit, 32)
	setDefault(&a.Tolerance, 1.5)
	setDefault(&a.Window, time.Second)
}

// EventStartTime parses Queue.EventStart; the zero time when unset.
// Validate has checked it.
func (q *Queue) EventStartTime() time.Time {
	t, _ := time.Parse(time.RFC3339, q.EventStart)
	return t
}

func (a *Admission) validate(v *validator, key string) {
	switch a.Mode {
	case "on", "off":
	default:
		v.bad(key+".mode", a.Mode, `"on" or "off"`)
	}
	v.between(key+".max_sessions", a.MaxSessions, 0, 100000000)
	v.floatBetween(key+".max_egress", a.MaxEgress, 0, 1e7, "Mbit/s")
	v.floatBetween(key+".admit_rate", a.AdmitRate, 0, 1e6, "sessions per second")
	v.between(key+".admit_burst", a.AdmitBurst, 0, 1000000)
	for i, g := range a.Gate {
		if _, err := telemetry.ParseClass(g); err != nil {
			v.bad(fmt.Sprintf("%s.gate[%d]", key, i), g, "a route class: "+strings.Join(telemetry.ClassNames(), ", "))
		}
	}
	v.durationIn(key+".session_idle", a.SessionIdle, time.Second, time.Hour)
	v.durationIn(key+".session_max_age", a.SessionMaxAge, time.Minute, 168*time.Hour)
	if a.KeysFile != "" {
		v.readable(key+".keys_file", a.KeysFile, "file of HMAC secrets")
	}
	a.Queue.validate(v, key+".queue")
	a.Degrade.validate(v, key+".degrade")
	t := &a.Tokens
	if t.KeysFile != "" {
		v.readable(key+".tokens.keys_file", t.KeysFile, "file of the platform's token keys")
	}
	if t.Required && t.KeysFile == "" {
		v.bad(key+".tokens.required", true, "false, or tokens.keys_file naming the platform's keys")
	}
	if t.Audience == "" || len(t.Audience) > 256 {
		v.bad(key+".tokens.audience", t.Audience, "1 to 256 characters")
	}
	v.between(key+".tokens.max_streams_per_account", t.MaxStreamsPerAccount, 0, 1000)
}

func (q *Queue) validate(v *validator, key string) {
	switch q.Order {
	case "fifo", "raffle":
	default:
		v.bad(key+".order", q.Order, `"fifo" or "raffle"`)
	}
	v.between(key+".max_length", q.MaxLength, 1, 100000000)
	v.durationIn(key+".grant_hold", q.GrantHold, time.Second, 10*time.Minute)
	v.durationIn(key+".abandon_after", q.AbandonAfter, 5*time.Second, time.Hour)
	v.durationIn(key+".poll_min", q.PollMin, 100*time.Millisecond, 5*time.Minute)
	v.durationIn(key+".poll_max", q.PollMax, q.PollMin, 5*time.Minute)
	if q.PollMax >= q.AbandonAfter && q.AbandonAfter > 0 {
		v.bad(key+".poll_max", q.PollMax, fmt.Sprintf("less than abandon_after (%s), or waiting clients would be dropped between polls", q.AbandonAfter))
	}
	v.floatBetween(key+".ticket_rate", q.TicketRate, 0.001, 1e6, "tickets per second")
	v.between(key+".ticket_burst", q.TicketBurst, 1, 1000000)
	v.floatBetween(key+".prefix_rate", q.PrefixRate, 0.001, 1e6, "tickets per second")
	v.between(key+".prefix_burst", q.PrefixBurst, 1, 1000000)
	if q.EventStart != "" {
		if _, err := time.Parse(time.RFC3339, q.EventStart); err != nil {
			v.bad(key+".event_start", q.EventStart, "an RFC 3339 time such as 2026-11-21T20:45:00+01:00")
		}
	}
	v.durationIn(key+".prequeue", q.PreQueue, 0, 168*time.Hour)
}

func (d *Degrade) validate(v *validator, key string) {
	if d.High <= 0 || d.High > 1 {
		v.bad(key+".high", d.High, "a share of max_egress in (0, 1]")
	}
	if d.Low <= 0 || d.Low >= d.High {
		v.bad(key+".low", d.Low, fmt.Sprintf("a share of max_egress in (0, high=%g)", d.High))
	}
	v.durationIn(key+".hold", d.Hold, time.Second, 10*time.Minute)
}

func (a *AdaptiveConcurrency) validate(v *validator, key string, maxConc int) {
	v.between(key+".min_limit", a.MinLimit, 1, max(maxConc, 1))
	v.between(key+".initial_limit", a.InitialLimit, a.MinLimit, max(maxConc, a.MinLimit))
	v.floatBetween(key+".tolerance", a.Tolerance, 1, 10, "a latency ratio")
	v.durationIn(key+".window", a.Window, 100*time.Millisecond, time.Minute)
}

// floatBetween reports f outside [lo, hi] (or not a number), in unit.
func (v *validator) floatBetween(key string, f, lo, hi float64, unit string) {
	if math.IsNaN(f) || f < lo || f > hi {
		v.bad(key, f, fmt.Sprintf("%s from %g to %g", unit, lo, hi))
	}
}

// durationIn reports d outside [lo, hi].
func (v *validator) durationIn(key string, d, lo, hi time.Duration) {
	if d < lo || d > hi {
		v.bad(key, d, fmt.Sprintf("a duration from %s to %s", lo, hi))
	}
}
