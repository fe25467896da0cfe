package origin

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/rempart/rempart/internal/config"
)

// Backoff between attempts: the nth retry waits a random time in
// [d/2, d) where d = backoffBase << (n-1), capped at backoffMax.
const (
	backoffBase = 20 * time.Millisecond
	backoffMax  = 200 * time.Millisecond
)

// Pool fetches a site's objects from its origins, tried in order.
// It is safe for concurrent use.
type Pool struct {
	site    string
	origins []*upstream
	up      config.Upstream
	retries int
	logger  *slog.Logger
	stats   Stats

	// now reads the clock for latency; backoff picks the wait before the
	// nth retry. Tests replace them.
	now     func() time.Time
	backoff func(retry int) time.Duration
}

// NewPool builds the pool for site. It checks the origin URLs and upstream
// settings again, and names the bad value. A nil logger discards.
func NewPool(site string, origins []config.Origin, up config.Upstream, logger *slog.Logger) (*Pool, error) {
	if len(origins) == 0 {
		return nil, fmt.Errorf("build pool for site %q: %w", site, ErrNoOrigins)
	}
	if err := checkUpstream(up); err != nil {
		return nil, fmt.Errorf("build pool for site %q: %w", site, err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p := &Pool{site: site, up: up, retries: *up.Retries, logger: logger,
		now: time.Now, backoff: jitteredBackoff}
	for i, o := range origins {
		base, err := parseOrigin(o.URL)
		if err != nil {
			return nil, fmt.Errorf("build pool for site %q: %w", site, err)
		}
		p.origins = append(p.origins, newUpstream(i, o.URL, base, up, site, logger))
	}
	return p, nil
}

// Stats returns the pool's live counters.
func (p *Pool) Stats() *Stats { return &p.stats }

// Origins returns each origin's URL, breaker state and slots in use, in
// configuration order. It allocates one small slice and takes each
// breaker's lock briefly: cheap enough for every metrics scrape.
func (p *Pool) Origins() []OriginState {
	out := make([]OriginState, len(p.origins))
	for i, u := range p.origins {
		out[i] = OriginState{URL: u.url, Breaker: u.state(), InFlight: u.inFlight.Load()}
	}
	return out
}

// Close closes idle connections to every origin. Responses still being
// read are not interrupted; the pool stays usable.
func (p *Pool) Close() {
	for _, u := range p.origins {
		u.transport.CloseIdleConnections()
	}
}

// jitteredBackoff spreads retries so that edges do not hit a recovering
// origin in lockstep.
func jitteredBackoff(retry int) time.Duration {
	d := backoffMax
	if retry >= 1 && retry < 5 {
		d = min(backoffBase<<(retry-1), backoffMax)
	}
	return d/2 + rand.N(d/2)
}
