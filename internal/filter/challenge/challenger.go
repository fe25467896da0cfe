package challenge

import (
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/keyring"
	"github.com/rempart/rempart/internal/playtoken"
	"github.com/rempart/rempart/internal/prerender"
	"github.com/rempart/rempart/internal/telemetry"
)

// Challenger issues and checks challenges, clearances and app tokens. It
// is safe for concurrent use; keys reload and difficulty changes apply to
// the next request.
type Challenger struct {
	cfg    config.Challenge
	logger *slog.Logger
	now    func() time.Time

	keys         Keys                               // sign clearances and challenges
	tokens       atomic.Pointer[playtoken.Verifier] // nil: app tokens not accepted
	replay       *replayCache                       // nonces already redeemed
	diff         atomic.Int32                       // current difficulty, bits
	pages        [numLangs]prerender.Page           // the page, pre-rendered per language
	assets       map[string]asset                   // the page's files by name; read-only
	assetVersion string                             // names the assets' content in their URLs
	stats        Stats
}

// Stats are the challenge's counters, as plain atomics for the metrics
// adapter.
type Stats struct {
	Issued          atomic.Uint64 // challenge pages served
	Solved          atomic.Uint64 // solutions accepted: clearances set
	Failed          atomic.Uint64 // solutions refused (malformed, forged, stale, binding, work)
	Replayed        atomic.Uint64 // solutions refused as already redeemed
	Refused         atomic.Uint64 // non-document requests answered 403 (no clearance, bad token)
	PassedClearance atomic.Uint64 // requests let through by a clearance
	// PassedListed counts requests let through because they ask a listed
	// object at a player's pace, or come from a viewer.
	PassedListed atomic.Uint64
	PassedToken  atomic.Uint64 // requests let through by an app token
	Difficulty   atomic.Int64  // the difficulty asked now, bits
}

// New returns a Challenger for cfg. Keys come from cfg.KeyFile, or are
// random for this process when it is empty; app tokens are accepted only
// when cfg.TokenKeyFile is set. now, if nil, is time.Now.
func New(cfg config.Challenge, logger *slog.Logger, now func() time.Time) (*Challenger, error) {
	if cfg.Difficulty < 1 || cfg.Difficulty > 32 || cfg.MaxDifficulty < cfg.Difficulty || cfg.MaxDifficulty > 32 {
		return nil, fmt.Errorf("challenge: difficulty %d..%d: want bits with 1 ≤ difficulty ≤ max ≤ 32", cfg.Difficulty, cfg.MaxDifficulty)
	}
	if cfg.ClearanceTTL <= 0 {
		return nil, fmt.Errorf("challenge: clearance ttl %v: want a positive duration", cfg.ClearanceTTL)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	c := &Challenger{cfg: cfg, logger: logger, now: now, replay: newReplayCache(DefaultReplayEntries)}
	if err := c.Reload(); err != nil {
		return nil, err
	}
	if cfg.KeyFile == "" {
		c.keys.Random()
		logger.Info("challenge: clearances signed with a random per-process key (set shield.challenge.key_file to share them across edges and restarts)")
	}
	if err := c.buildPages(); err != nil {
		return nil, err
	}
	c.SetPressure(0)
	return c, nil
}

// Reload re-reads the key files named in the configuration. Any error keeps
// the keys in use and is returned; nothing is swapped in unless all files
// read well.
func (c *Challenger) Reload() error {
	var tk *playtoken.Verifier
	if c.cfg.TokenKeyFile != "" {
		var err error
		if tk, err = playtoken.Load(c.cfg.TokenKeyFile, TokenAudience); err != nil {
			return fmt.Errorf("challenge: %w", err)
		}
	}
	if c.cfg.KeyFile != "" {
		secrets, err := keyring.ReadSecrets(c.cfg.KeyFile)
		if err == nil {
			err = c.keys.Store(secrets...)
		}
		if err != nil {
			return fmt.Errorf("challenge: %w", err)
		}
	}
	if tk != nil {
		c.tokens.Store(tk)
	}
	return nil
}

// Keys returns the keys that sign clearances and challenges, for an
// operator to rotate without a file (Keys.Store).
func (c *Challenger) Keys() *Keys { return &c.keys }

// SetPressure maps p, the detector's measure of the attack from 0 (calm) to
// 1 (worst seen), onto the difficulty range of the configuration, and
// returns the difficulty applied. p outside [0, 1] (NaN included) is
// clamped.
func (c *Challenger) SetPressure(p float64) (applied int) {
	if !(p >= 0) {
		p = 0
	}
	p = min(p, 1)
	d := c.cfg.Difficulty + int(math.Round(p*float64(c.cfg.MaxDifficulty-c.cfg.Difficulty)))
	c.diff.Store(int32(d))
	c.stats.Difficulty.Store(int64(d))
	return d
}

// Difficulty returns the difficulty asked of new challenges, in bits.
func (c *Challenger) Difficulty() int { return int(c.diff.Load()) }

// Stats returns the live counters.
func (c *Challenger) Stats() *Stats { return &c.stats }

// Cleared reports whether r carries a clearance valid for its client now.
// client is the address the edge identified (the zero Addr: r.RemoteAddr).
func (c *Challenger) Cleared(r *http.Request, client netip.Addr) bool {
	client = clientOf(r, client)
	ua := r.Header.Get("User-Agent")
	now := c.now()
	return cookieValues(r.Header, CookieName, func(v string) bool {
		return verifyClearance(&c.keys, v, client, ua, now)
	})
}

// clientOf returns client when valid, else the address of r.RemoteAddr.
func clientOf(r *http.Request, client netip.Addr) netip.Addr {
	if client.IsValid() {
		return client.Unmap()
	}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().Unmap()
	}
	a, _ := netip.ParseAddr(r.RemoteAddr)
	return a.Unmap()
}

// clientFromRecord returns the client address the edge recorded for w.
func clientFromRecord(w http.ResponseWriter) netip.Addr {
	return telemetry.RecordOf(w).Client
}
