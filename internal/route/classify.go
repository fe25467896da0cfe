package route

import (
	"strings"

	"github.com/rempart/rempart/internal/telemetry"
)

// Rule gives Class to requests whose path starts with Prefix and ends with
// Suffix; an empty matcher matches everything.
type Rule struct {
	Prefix string
	Suffix string
	Class  telemetry.Class
}

func (r Rule) matches(path string) bool {
	return strings.HasPrefix(path, r.Prefix) && strings.HasSuffix(path, r.Suffix)
}

// builtin maps file extensions to classes. Playlists start as media
// playlists; the cache refines them to master playlists from their body,
// since the path alone cannot tell the two apart.
var builtin = map[string]telemetry.Class{
	".m3u8":   telemetry.ClassMedia,
	".m3u":    telemetry.ClassMedia,
	".ts":     telemetry.ClassSegment,
	".m4s":    telemetry.ClassSegment,
	".mp4":    telemetry.ClassSegment,
	".m4v":    telemetry.ClassSegment,
	".aac":    telemetry.ClassSegment,
	".vtt":    telemetry.ClassSegment,
	".webvtt": telemetry.ClassSegment,
	".mp3":    telemetry.ClassOnDemand,
	".m4a":    telemetry.ClassOnDemand,
	".flac":   telemetry.ClassOnDemand,
	".ogg":    telemetry.ClassOnDemand,
	".opus":   telemetry.ClassOnDemand,
	".wav":    telemetry.ClassOnDemand,
}

// Classify returns the class of a request for path: the first matching
// rule, else the built-in rule for the path's extension, else api.
func Classify(rules []Rule, path string) telemetry.Class {
	c, _ := classify(rules, path)
	return c
}

// classify is Classify that also says whether a configured rule decided.
func classify(rules []Rule, path string) (telemetry.Class, bool) {
	for _, r := range rules {
		if r.matches(path) {
			return r.Class, true
		}
	}
	return builtinClass(path), false
}

func builtinClass(path string) telemetry.Class {
	dot := strings.LastIndexByte(path, '.')
	if dot < 0 || dot < strings.LastIndexByte(path, '/') {
		return telemetry.ClassAPI
	}
	ext := path[dot:]
	if c, ok := builtin[ext]; ok {
		return c
	}
	// Extensions are short: lower-casing the rare upper-case one is cheap,
	// and the common lower-case path above allocates nothing.
	if c, ok := builtin[strings.ToLower(ext)]; ok {
		return c
	}
	return telemetry.ClassAPI
}
