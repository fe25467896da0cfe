package config

import (
	"slices"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
)

// Policy is a ClassPolicy with every field resolved: what the cache applies.
type Policy struct {
	TTL                  time.Duration
	MaxTTL               time.Duration
	StaleWhileRevalidate time.Duration
	StaleIfError         time.Duration
	NegativeTTL          time.Duration
	// QueryKeep is the sorted allow-list of query parameters; nil keeps none.
	QueryKeep []string
	// KeepAllQuery is true when QueryKeep was ["*"].
	KeepAllQuery bool
}

// ClassDefaults are the built-in policies, fit for live streaming: playlists
// short-lived, segments long-lived, APIs cached only when the origin allows.
var ClassDefaults = [telemetry.NumClasses]Policy{
	telemetry.ClassMaster: {
		TTL: 2 * time.Second, MaxTTL: 30 * time.Second,
		StaleWhileRevalidate: 2 * time.Second, StaleIfError: time.Minute,
		NegativeTTL: time.Second,
	},
	telemetry.ClassMedia: {
		// Freshness is capped at half the target duration at run time;
		// TTL applies only to playlists without one.
		TTL: time.Second, StaleIfError: 0, // 0: one target duration
		NegativeTTL: time.Second,
	},
	telemetry.ClassSegment: {
		TTL: 10 * time.Minute, StaleIfError: 10 * time.Minute,
		NegativeTTL: time.Second,
	},
	telemetry.ClassOnDemand: {
		TTL: time.Hour, StaleWhileRevalidate: 10 * time.Second, StaleIfError: time.Hour,
		NegativeTTL: 5 * time.Second,
	},
	telemetry.ClassAPI: {
		TTL: 0, StaleIfError: 30 * time.Second, KeepAllQuery: true,
	},
}

// Policy returns the policy the cache applies to class c on this site:
// ClassDefaults[c], with each field that s.Classes[c.String()] sets
// overriding it. QueryKeep comes back sorted and without duplicates, and a
// list holding "*" becomes KeepAllQuery. The result shares no memory with s
// or ClassDefaults. A class out of range gets the zero Policy: cache
// nothing, keep no query.
func (s *Site) Policy(c telemetry.Class) Policy {
	if c >= telemetry.NumClasses {
		return Policy{}
	}
	p := ClassDefaults[c]
	p.QueryKeep = slices.Clone(p.QueryKeep)
	o, ok := s.Classes[c.String()]
	if !ok {
		return p
	}
	override(&p.TTL, o.TTL)
	override(&p.MaxTTL, o.MaxTTL)
	override(&p.StaleWhileRevalidate, o.StaleWhileRevalidate)
	override(&p.StaleIfError, o.StaleIfError)
	override(&p.NegativeTTL, o.NegativeTTL)
	if o.QueryKeep != nil {
		p.QueryKeep, p.KeepAllQuery = queryKeep(o.QueryKeep)
	}
	return p
}

// Policies returns Policy for every class, indexed by class.
func (s *Site) Policies() [telemetry.NumClasses]Policy {
	var all [telemetry.NumClasses]Policy
	for c := range telemetry.NumClasses {
		all[c] = s.Policy(c)
	}
	return all
}

func override(dst *time.Duration, src *time.Duration) {
	if src != nil {
		*dst = *src
	}
}

// queryKeep turns a configured query_keep list into the sorted, duplicate
// free allow-list, or keepAll when it holds "*".
func queryKeep(list []string) (keep []string, keepAll bool) {
	if slices.Contains(list, "*") {
		return nil, true
	}
	keep = slices.Compact(slices.Sorted(slices.Values(list)))
	if len(keep) == 0 {
		return nil, false
	}
	return keep, false
}
