package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/rempart/rempart/internal/config"
)

// ErrClosed is returned for fetches asked of a closed Store.
var ErrClosed = errors.New("cache: store closed")

// Hit-for-pass marks: a key whose last answer could not be shared (private,
// Set-Cookie, too big) is passed straight to the origin for a while, so its
// requests neither queue behind a flight nor coalesce onto one client's
// answer. The table is bounded; an evicted mark costs one more flight.
const (
	hitForPassTTL  = 10 * time.Second
	maxPassKeys    = 8192
	logInterval    = time.Second
	minStoreWeight = 1 << 20
)

// Store is the object store shared by all sites, with the table of origin
// fetches in flight. Objects live in an otter cache bounded by MaxBytes.
//
// otter rather than ristretto: ristretto applies a Set asynchronously
// through a buffer that drops writes under contention, and its admission
// policy may refuse the write altogether, so a just-fetched live playlist
// could be missing on the next request and every viewer's poll would go to
// the origin. An otter Set writes the hash table synchronously: the next Get
// sees it. Eviction runs afterwards and chooses by frequency (W-TinyLFU), so
// a playlist polled by every viewer stays while rarely read objects go first
// when the store is full. TestSetReadable holds the first promise.
type Store struct {
	cfg   config.Cache
	log   *slog.Logger
	now   func() time.Time
	clock otter.Clock // nil: otter's real clock

	objects  *otter.Cache[string, *entry]
	passKeys *otter.Cache[string, struct{}]
	seen     *otter.Cache[string, struct{}] // objects got lately (lane.go)
	stats    Stats
	logs     logLimiter

	ctx    context.Context // parent of every flight; canceled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // flight goroutines

	mu      sync.Mutex         // guards flights and closed
	flights map[string]*flight // origin fetches in flight, by key
	closed  bool
	once    sync.Once
}

// Option configures a Store.
type Option func(*Store)

// WithClock makes the Store read time from now instead of time.Now, for
// freshness, stale windows and expiry. Tests use it to age objects.
func WithClock(now func() time.Time) Option {
	return func(s *Store) {
		s.now = now
		s.clock = funcClock(now)
	}
}

// funcClock adapts a now function to otter's Clock. It never ticks: expired
// objects are then swept on writes and reads instead of by a timer, which is
// what a test clock wants.
type funcClock func() time.Time

func (c funcClock) NowNano() int64                      { return c().UnixNano() }
func (c funcClock) Tick(time.Duration) <-chan time.Time { return nil }

// NewStore returns a Store sized by cfg, whose defaults are already filled.
// logger receives rate-limited warnings (origin failures, frozen playlists).
func NewStore(cfg config.Cache, logger *slog.Logger, opts ...Option) (*Store, error) {
	if cfg.MaxBytes < minStoreWeight {
		return nil, fmt.Errorf("new cache store: max_bytes %d is below the minimum %d", cfg.MaxBytes, minStoreWeight)
	}
	if cfg.MaxObjectBytes <= 0 || cfg.MaxObjectBytes > cfg.MaxBytes {
		return nil, fmt.Errorf("new cache store: max_object_bytes %d must be in (0, max_bytes %d]", cfg.MaxObjectBytes, cfg.MaxBytes)
	}
	if cfg.WaitTimeout <= 0 {
		return nil, fmt.Errorf("new cache store: wait_timeout %v must be positive", cfg.WaitTimeout)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{cfg: cfg, log: logger, now: time.Now, flights: make(map[string]*flight)}
	s.logs.interval = logInterval
	for _, o := range opts {
		o(s)
	}
	if err := s.buildTables(); err != nil {
		return nil, fmt.Errorf("new cache store: %w", err)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.stats.objects = s.objects.EstimatedSize
	s.stats.bytes = s.objects.WeightedSize
	return s, nil
}

// buildTables creates the object store and the hit-for-pass table.
func (s *Store) buildTables() error {
	var err error
	s.objects, err = otter.New(&otter.Options[string, *entry]{
		MaximumWeight: uint64(s.cfg.MaxBytes),
		Weigher:       func(_ string, e *entry) uint32 { return e.weight },
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[string, *entry]) time.Duration {
			return e.Value.expires.Sub(s.now())
		}),
		// Atomic: the counter is an atomic add, cheaper than the goroutine
		// per deletion that OnDeletion costs on the default executor.
		OnAtomicDeletion: s.countDeletion,
		Clock:            s.clock,
	})
	if err != nil {
		return fmt.Errorf("object table: %w", err)
	}
	s.passKeys, err = otter.New(&otter.Options[string, struct{}]{
		MaximumSize:      maxPassKeys,
		ExpiryCalculator: otter.ExpiryWriting[string, struct{}](hitForPassTTL),
		Clock:            s.clock,
	})
	if err != nil {
		return fmt.Errorf("hit-for-pass table: %w", err)
	}
	if s.seen, err = newSeenTable(s.clock); err != nil {
		return fmt.Errorf("seen table: %w", err)
	}
	return nil
}

func (s *Store) countDeletion(e otter.DeletionEvent[string, *entry]) {
	switch e.Cause {
	case otter.CauseOverflow:
		s.stats.Evictions.Add(1)
	case otter.CauseExpiration:
		s.stats.Expirations.Add(1)
	}
}

// Stats returns the store's counters.
func (s *Store) Stats() *Stats { return &s.stats }

// Close cancels every origin fetch in flight (waiters then get a stale copy
// or an error), waits for their goroutines and stops the tables' own. Later
// fetches fail with ErrClosed; stored objects stay readable.
func (s *Store) Close() {
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.cancel()
		s.wg.Wait()
		s.objects.StopAllGoroutines()
		s.passKeys.StopAllGoroutines()
		s.seen.StopAllGoroutines()
	})
}

// get returns the stored entry for key, fresh or stale, or nil.
func (s *Store) get(key string) *entry {
	e, _ := s.objects.GetIfPresent(key)
	return e
}

// set stores e under key, replacing any previous variant.
func (s *Store) set(key string, e *entry) {
	s.objects.Set(key, e)
	s.stats.Inserts.Add(1)
}

// markPass makes key hit-for-pass for a while.
func (s *Store) markPass(key string) { s.passKeys.Set(key, struct{}{}) }

// isPass reports whether key is marked hit-for-pass.
func (s *Store) isPass(key string) bool {
	_, ok := s.passKeys.GetIfPresent(key)
	return ok
}
