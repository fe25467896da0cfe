package viewer

import (
	"net/url"
	"strings"
	"time"

	"github.com/rempart/rempart/internal/siege/sim"
)

// durationParam reads a duration written as "2s" or as a number of seconds.
func durationParam(p sim.Params, key string, def time.Duration) time.Duration {
	switch p[key].(type) {
	case string:
		return p.Duration(key, def)
	case int, int64, float64:
		return time.Duration(p.Float(key, 0) * float64(time.Second))
	}
	return def
}

// targetURL resolves a path from the scenario against the target, under
// the target's path prefix.
func targetURL(env *sim.Env, ref string) (*url.URL, error) {
	base := *env.Target
	base.Path = strings.TrimSuffix(base.Path, "/") + "/"
	base.RawPath, base.RawQuery, base.Fragment = "", "", ""
	cl := client{env: env}
	return cl.resolve(&base, strings.TrimPrefix(ref, "/"))
}

// later returns the later of two times.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// earlier returns the earlier of two times.
func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
