package origin

import (
	"fmt"
	"math"
	"net/url"
	"time"

	"github.com/rempart/rempart/internal/config"
)

// parseOrigin checks an origin URL again, even though config validated it:
// the pool is the last line that keeps requests on configured origins.
func parseOrigin(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parse origin %q: %w: %w", raw, ErrBadOrigin, err)
	}
	var why string
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		why = "scheme must be http or https"
	case u.Host == "" || u.Hostname() == "":
		why = "host is missing"
	case u.User != nil:
		// The transport would not send them, and logs would leak them.
		why = "credentials in the URL are not supported"
	case u.RawQuery != "" || u.ForceQuery:
		why = "query is not allowed"
	case u.Fragment != "":
		why = "fragment is not allowed"
	}
	if why != "" {
		return nil, fmt.Errorf("check origin %q: %w: %s", raw, ErrBadOrigin, why)
	}
	return u, nil
}

// checkUpstream rejects settings that would make the pool hang or refuse
// everything; config fills defaults, so these only trip on a wiring bug.
func checkUpstream(up config.Upstream) error {
	durations := []struct {
		key string
		d   time.Duration
	}{
		{"connect_timeout", up.ConnectTimeout},
		{"response_header_timeout", up.ResponseHeaderTimeout},
		{"fetch_timeout", up.FetchTimeout},
		{"queue_timeout", up.QueueTimeout},
		{"breaker_cooldown", up.BreakerCooldown},
	}
	for _, d := range durations {
		if d.d <= 0 {
			return fmt.Errorf("check upstream.%s %v: %w: must be positive", d.key, d.d, ErrBadUpstream)
		}
	}
	switch {
	case up.MaxConcurrency < 1:
		return fmt.Errorf("check upstream.max_concurrency %d: %w: must be at least 1", up.MaxConcurrency, ErrBadUpstream)
	case up.BreakerFailures < 1:
		return fmt.Errorf("check upstream.breaker_failures %d: %w: must be at least 1", up.BreakerFailures, ErrBadUpstream)
	case up.MaxIdleConns < 0:
		return fmt.Errorf("check upstream.max_idle_conns %d: %w: must be 0 or more", up.MaxIdleConns, ErrBadUpstream)
	case up.Retries == nil:
		return fmt.Errorf("check upstream.retries: %w: unset (defaults not filled)", ErrBadUpstream)
	case *up.Retries < 0:
		return fmt.Errorf("check upstream.retries %d: %w: must be 0 or more", *up.Retries, ErrBadUpstream)
	case !(up.UnknownShare > 0 && up.UnknownShare <= 1):
		return fmt.Errorf("check upstream.unknown_share %v: %w: must be a fraction above 0, at most 1", up.UnknownShare, ErrBadUpstream)
	}
	return checkAdaptive(up.Adaptive, up.MaxConcurrency)
}

// checkAdaptive rejects adaptive limit settings that would pin the limit
// or divide by zero; they matter only when the limit is enabled.
func checkAdaptive(a config.AdaptiveConcurrency, maxConc int) error {
	if !a.Enabled {
		return nil
	}
	switch {
	case a.MinLimit < 1 || a.MinLimit > maxConc:
		return fmt.Errorf("check upstream.adaptive.min_limit %d: %w: must be from 1 to max_concurrency (%d)", a.MinLimit, ErrBadUpstream, maxConc)
	case a.InitialLimit < a.MinLimit || a.InitialLimit > maxConc:
		return fmt.Errorf("check upstream.adaptive.initial_limit %d: %w: must be from min_limit (%d) to max_concurrency (%d)", a.InitialLimit, ErrBadUpstream, a.MinLimit, maxConc)
	case !(a.Tolerance >= 1) || math.IsInf(a.Tolerance, 1):
		return fmt.Errorf("check upstream.adaptive.tolerance %v: %w: must be a latency ratio of 1 or more", a.Tolerance, ErrBadUpstream)
	case a.Window <= 0:
		return fmt.Errorf("check upstream.adaptive.window %v: %w: must be positive", a.Window, ErrBadUpstream)
	}
	return nil
}
