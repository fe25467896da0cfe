package sim

import (
	"fmt"
	"time"
)

// String returns the parameter k as a string, or def when absent.
func (p Params) String(k, def string) string {
	if v, ok := p[k].(string); ok {
		return v
	}
	return def
}

// Int returns the parameter k as an int, or def when absent.
func (p Params) Int(k string, def int) int {
	switch v := p[k].(type) {
	case int:
		return v
	case int64:
		return int(v)
	case float64:
		return int(v)
	}
	return def
}

// Float returns the parameter k as a float64, or def when absent.
func (p Params) Float(k string, def float64) float64 {
	switch v := p[k].(type) {
	case int:
		return float64(v)
	case int64:
		return float64(v)
	case float64:
		return v
	}
	return def
}

// Duration returns the parameter k ("2s", "150ms") as a duration, or def.
func (p Params) Duration(k string, def time.Duration) time.Duration {
	if s, ok := p[k].(string); ok {
		if d, err := time.ParseDuration(s); err == nil {
			return d
		}
	}
	return def
}

// Bool returns the parameter k as a bool, or def when absent.
func (p Params) Bool(k string, def bool) bool {
	if v, ok := p[k].(bool); ok {
		return v
	}
	return def
}

// Strings returns the parameter k as a list of strings, or def.
func (p Params) Strings(k string, def []string) []string {
	vs, ok := p[k].([]any)
	if !ok {
		return def
	}
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		out = append(out, fmt.Sprint(v))
	}
	return out
}
