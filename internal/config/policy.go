package config

import (
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
