// Package filter decides, for every request, whether the edge serves it: the
// allowlist, the blocklist (prefixes with a time to live), rate limits per
// client key, and the mitigations the detector or an operator applied. The
// decision is a pure function of the request's record and the Shield's
// state, cheap enough to run on every request of an attack; the Stage turns
// it into a refusal, and the admin API and the Actuator change the state.
package filter

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gaissmai/bart"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/mitigation"
)

// Defaults for zero configuration values, and the bounds setters clamp to.
const (
	DefaultMaxKeys       = 200000          // shield.max_keys
	DefaultMaxBlocks     = 1000000         // shield.max_blocks
	DefaultBlockTTL      = time.Hour       // an operator block without a ttl
	DefaultMitigationTTL = 2 * time.Minute // a mitigation applied without Until
	MinTTL               = time.Second
	MaxTTL               = 30 * 24 * time.Hour // longer belongs in a block file
	maxMitigations       = 1024                // other than blocks
)

// Errors callers can test for with errors.Is.
var (
	ErrBlocklistFull  = errors.New("blocklist full")
	ErrBadMitigation  = errors.New("invalid mitigation")
	ErrTooManyActions = errors.New("too many active mitigations")
)

// mode is the shield's mode; see config.Shield.Mode.
type mode int32

const (
	modeOn mode = iota
	modeShadow
	modeOff
)

func parseMode(s string) (mode, error) {
	switch s {
	case "", "on":
		return modeOn, nil
	case "shadow":
		return modeShadow, nil
	case "off":
		return modeOff, nil
	}
	return modeOn, fmt.Errorf("shield.mode %q: want on, shadow or off", s)
}

// Shield is the filter's long-lived state, shared by every site and kept
// across configuration reloads: allow and block lists, rate limiters and
// active mitigations. Decide reads it without locks (each table is an
// immutable snapshot swapped atomically); writers serialize on mu.
type Shield struct {
	logger *slog.Logger
	now    func() time.Time
	stats  Stats

	mode      atomic.Int32
	allow     atomic.Pointer[bart.Lite]
	files     atomic.Pointer[bart.Table[*blockEntry]] // from BlockFiles, no expiry
	dyn       atomic.Pointer[bart.Table[*blockEntry]] // operator and detector blocks, with expiry
	limits    atomic.Pointer[[]*limiter]
	mits      atomic.Pointer[mitSet]
	maxBlocks atomic.Int64
	maxKeys   atomic.Int64 // size of each limiter's table

	mu     sync.Mutex             // serializes writers; guards the fields below and blockEntry's and active's mutable fields
	byID   map[string]*blockEntry // dynamic blocks by mitigation ID
	expiry expiryHeap             // dynamic blocks by expiry
	others map[string]*active     // mitigations other than blocks, by ID
	// throttleKeys holds the buckets of every throttle_fingerprint
	// mitigation, by address and fingerprint: one table bounded by
	// max_keys however many throttles the detector applies.
	throttleKeys *keyTable
	// fairKeys holds each source's bucket of the fair share (fair.go),
	// bounded by max_keys; fair is the share in force, nil when none.
	fairKeys *keyTable
	fair     atomic.Pointer[fairShare]
}

// Interface guard: the edge wires the detector to the Shield.
var _ mitigation.Actuator = (*Shield)(nil)

// New builds the Shield for cfg, reading its block files. logger receives
// changes (blocks, mitigations, reloads), never a line per request; if nil,
// nothing is logged. now is the clock; if nil, time.Now.
func New(cfg config.Shield, logger *slog.Logger, now func() time.Time) (*Shield, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	s := &Shield{logger: logger, now: now, byID: make(map[string]*blockEntry), others: make(map[string]*active)}
	s.files.Store(new(bart.Table[*blockEntry]))
	s.dyn.Store(new(bart.Table[*blockEntry]))
	s.mits.Store(new(mitSet))
	s.limits.Store(new([]*limiter))
	if err := s.Reload(cfg); err != nil {
		return nil, fmt.Errorf("new shield: %w", err)
	}
	return s, nil
}

// Reload applies cfg: mode, allowlist, block files (read again), table
// bounds and rate limits. On error nothing changes and the error says what
// was wrong; blocks and mitigations applied at run time stay either way,
// and so do the buckets of rate limits whose key, class and paths did not
// change. Rate limits are clamped as SetRates does.
func (s *Shield) Reload(cfg config.Shield) error {
	m, err := parseMode(cfg.Mode)
	allow, aerr := parseAllow(cfg.Allow)
	maxBlocks := positiveOr(cfg.MaxBlocks, DefaultMaxBlocks)
	lists, ferr := readLists(cfg.BlockFiles, maxBlocks)
	if err := errors.Join(err, aerr, ferr); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files.Store(fileTable(lists, s.files.Load(), s.now()))
	s.allow.Store(allow)
	s.mode.Store(int32(m))
	s.maxBlocks.Store(int64(maxBlocks))
	maxKeys := positiveOr(cfg.MaxKeys, DefaultMaxKeys)
	if s.throttleKeys == nil || int64(maxKeys) != s.maxKeys.Load() {
		s.throttleKeys = newKeyTable(maxKeys)
		s.fairKeys = newKeyTable(maxKeys)
		s.rebuildLocked()
	}
	s.maxKeys.Store(int64(maxKeys))
	s.setRatesLocked(cfg.Rates)
	return nil
}

func positiveOr(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// parseAllow builds the allowlist: CIDRs or bare addresses, of any width.
func parseAllow(cidrs []string) (*bart.Lite, error) {
	t := new(bart.Lite)
	var errs []error
	for i, c := range cidrs {
		p, err := parseAny(c)
		if err != nil {
			errs = append(errs, fmt.Errorf("shield.allow[%d]: %w", i, err))
			continue
		}
		t.Insert(p)
	}
	return t, errors.Join(errs...)
}

// Sweep forgets blocks and mitigations that expired by now. Expired ones
// already stopped applying; sweeping frees their room. The edge calls it
// every second.
func (s *Shield) Sweep(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := now.UnixNano()
	s.sweepBlocksLocked(n)
	s.sweepOthersLocked(n)
}

// Stats returns the Shield's counters.
func (s *Shield) Stats() *Stats { return &s.stats }

// Mode returns the mode in force: "on", "shadow" or "off".
func (s *Shield) Mode() string {
	return [...]string{"on", "shadow", "off"}[s.mode.Load()]
}

// shadow reports whether decisions are counted but not enforced.
func (s *Shield) shadow() bool { return mode(s.mode.Load()) == modeShadow }

// addrKey is the limiter key of an address.
func addrKey(a netip.Addr) key {
	b := a.As16()
	return key{hi: binary.BigEndian.Uint64(b[:8]), lo: binary.BigEndian.Uint64(b[8:])}
}
