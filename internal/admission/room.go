package admission

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/keyring"
)

// Room is one site's admission state: its places (sessions), its waiting
// line, its admission rate. It outlives configuration reloads (Reload
// applies a new configuration to it) and is safe for concurrent use.
type Room struct {
	site    string
	logger  *slog.Logger
	now     func() time.Time
	sealer  sealer
	keys    keyring.Keys
	ses     *sessions
	limits  *ticketLimits
	stats   Stats
	egress  egress
	ladders ladders

	mu       sync.Mutex // guards everything below
	cfg      config.Admission
	capacity Capacity
	admit    bucket             // the admission rate's tokens
	tickets  map[uint64]*ticket // waiting or granted, by number
	line     line               // waiting tickets in order (after the doors open)
	pre      []*ticket          // the pre-queue, before the doors open
	opened   bool               // the doors opened (or there is no event)
	granted  int                // tickets holding a granted place
	nextTkt  uint64             // the last ticket number given
	nextSeq  uint64             // the last admission number given
	departed departures         // places freed, per second
	life     lifetable          // how long places are held; when they free up
	lastTick time.Time
}

// ticket is a place in the waiting room.
type ticket struct {
	number    uint64
	slot      int       // in the line; -1 when out of it
	lastSeen  time.Time // last presented
	grantedAt time.Time // zero while waiting
	seq       uint64    // the admission number of the place granted
	account   string
}

// Capacity is what a room admits; changeable at run time (SetCapacity).
type Capacity struct {
	// MaxSessions is the most sessions at once; 0: no cap.
	MaxSessions int `json:"max_sessions"`
	// MaxEgress is the egress capacity in Mbit/s; 0: no cap.
	MaxEgress float64 `json:"max_egress"`
	// AdmitRate is the most new sessions per second; 0: no limit.
	AdmitRate float64 `json:"admit_rate"`
	// AdmitBurst is how many may be admitted at once.
	AdmitBurst int `json:"admit_burst"`
}

// NewRoom returns the room of site for cfg (validated). now is the clock.
func NewRoom(site string, cfg config.Admission, logger *slog.Logger, now func() time.Time) (*Room, error) {
	var epoch [8]byte
	rand.Read(epoch[:])
	r := &Room{
		site: site, logger: logger, now: now,
		ses: newSessions(), limits: newTicketLimits(),
		tickets: map[uint64]*ticket{},
	}
	r.sealer = sealer{keys: &r.keys, site: site, epoch: binary.BigEndian.Uint64(epoch[:])}
	r.egress.init(cfg.Degrade)
	if err := r.Reload(cfg); err != nil {
		return nil, err
	}
	return r, nil
}

// Reload applies cfg: keys, capacity, queue rules. On error nothing
// changes.
func (r *Room) Reload(cfg config.Admission) error {
	if cfg.KeysFile != "" {
		if err := r.keys.Load(cfg.KeysFile); err != nil {
			return fmt.Errorf("admission of site %s: %w", r.site, err)
		}
	} else if r.keys.Empty() {
		r.keys.Random()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cfg = cfg
	r.capacity = Capacity{MaxSessions: cfg.MaxSessions, MaxEgress: cfg.MaxEgress,
		AdmitRate: cfg.AdmitRate, AdmitBurst: cfg.AdmitBurst}
	r.opened = cfg.Queue.EventStart == "" || r.opened
	if r.egress.ctl != nil {
		r.egress.reload(cfg.Degrade)
	}
	return nil
}

// SetCapacity changes the capacity at run time and returns what applied:
// negative values are taken as 0 (no cap), a burst under 1 follows the rate.
func (r *Room) SetCapacity(c Capacity) Capacity {
	c.MaxSessions = max(c.MaxSessions, 0)
	c.MaxEgress = math.Max(c.MaxEgress, 0)
	c.AdmitRate = math.Max(c.AdmitRate, 0)
	if c.AdmitBurst < 1 {
		c.AdmitBurst = max(1, int(math.Ceil(c.AdmitRate)))
	}
	r.mu.Lock()
	r.capacity = c
	r.pumpLocked(r.now())
	r.mu.Unlock()
	r.logger.Info("admission capacity changed", "max_sessions", c.MaxSessions,
		"max_egress_mbps", c.MaxEgress, "admit_rate", c.AdmitRate)
	return c
}

// Capacity returns the capacity in force.
func (r *Room) Capacity() Capacity {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.capacity
}

// maxUncapped bounds the session table of a room without max_sessions, so
// that a botnet taking sessions cannot grow it without end; past it,
// newcomers queue.
const maxUncapped = 10000000

// freeLocked returns how many places are free: the cap less the sessions
// and the places granted to tickets not yet redeemed.
func (r *Room) freeLocked() int {
	max := r.capacity.MaxSessions
	if max == 0 {
		max = maxUncapped
	}
	return max - r.ses.count() - r.granted
}

// takeAdmitLocked takes one token of the admission rate.
func (r *Room) takeAdmitLocked(now time.Time) bool {
	if r.capacity.AdmitRate <= 0 {
		return true
	}
	return r.admit.take(now, r.capacity.AdmitRate, r.capacity.AdmitBurst) == 0
}

// waitingLocked returns how many tickets wait (line and pre-queue).
func (r *Room) waitingLocked() int { return r.line.live + len(r.pre) }

// nextSeqLocked returns a new admission number.
func (r *Room) nextSeqLocked() uint64 {
	r.nextSeq++
	return r.nextSeq
}

// grant is a session just opened, with the token that carries it.
type grant struct {
	se    *session
	token string
}

// open starts the session of admission number seq for v.
func (r *Room) open(seq uint64, v *visit) grant {
	se := &session{id: seq, started: v.now, account: v.account}
	se.lastSeen.Store(v.now.UnixNano())
	r.ses.add(se)
	return grant{se: se, token: r.sealer.seal(sessionV1, seq, v.now, v.client, v.ua)}
}

// accountFree reports whether account may open one more session.
func (r *Room) accountFree(account string) bool {
	r.mu.Lock()
	limit := r.cfg.Tokens.MaxStreamsPerAccount
	r.mu.Unlock()
	return limit == 0 || r.ses.held(account) < limit
}

// queueLimits returns the ticket limits in force.
func (r *Room) queueLimits() *queueLimits {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := &r.cfg.Queue
	return &queueLimits{rate: q.TicketRate, burst: q.TicketBurst, prefixRate: q.PrefixRate, prefixBurst: q.PrefixBurst}
}
