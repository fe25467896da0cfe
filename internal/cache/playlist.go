package cache

import (
	"bytes"
	"strings"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
)

var (
	tagStreamInf      = []byte("#EXT-X-STREAM-INF")
	tagTargetDuration = []byte("#EXT-X-TARGETDURATION:")
)

// maxTargetDuration bounds what parseTargetDuration accepts: a playlist that
// claims more is treated as having no usable target duration.
const maxTargetDuration = time.Hour

// refineClass returns the class of a playlist body: master when it lists
// variant streams, media when it has a target duration, else cls. Only
// playlists (classes master and media) are refined: a route configured as
// segment or api stays what the operator said.
func refineClass(cls telemetry.Class, body []byte) telemetry.Class {
	if cls != telemetry.ClassMedia && cls != telemetry.ClassMaster {
		return cls
	}
	switch {
	case bytes.Contains(body, tagStreamInf):
		return telemetry.ClassMaster
	case bytes.Contains(body, tagTargetDuration):
		return telemetry.ClassMedia
	}
	return cls
}

// parseTargetDuration returns the EXT-X-TARGETDURATION of a media playlist
// (RFC 8216 §4.3.3.1): a decimal-integer number of seconds, at the start of
// a line. A fractional value, which some packagers write, is rounded up, as
// the tag is an upper bound. It returns false when there is no such tag or
// its value is not a positive number up to maxTargetDuration.
func parseTargetDuration(body []byte) (time.Duration, bool) {
	for len(body) > 0 {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		if v, ok := bytes.CutPrefix(line, tagTargetDuration); ok {
			return parseSeconds(bytes.TrimRight(v, " \t\r"))
		}
	}
	return 0, false
}

// parseSeconds parses "6" or "6.006" (rounded up to whole seconds).
func parseSeconds(v []byte) (time.Duration, bool) {
	intPart, frac, hasFrac := bytes.Cut(v, []byte("."))
	if len(intPart) == 0 || len(intPart) > 6 || (hasFrac && len(frac) == 0) {
		return 0, false
	}
	var secs int64
	for _, c := range intPart {
		if c < '0' || c > '9' {
			return 0, false
		}
		secs = secs*10 + int64(c-'0')
	}
	roundUp := false
	for _, c := range frac {
		if c < '0' || c > '9' {
			return 0, false
		}
		roundUp = roundUp || c != '0'
	}
	if roundUp {
		secs++
	}
	d := time.Duration(secs) * time.Second
	if d <= 0 || d > maxTargetDuration {
		return 0, false
	}
	return d, true
}

// mediaTypes maps response content types to the class of what they carry.
var mediaTypes = map[string]telemetry.Class{
	"application/vnd.apple.mpegurl": telemetry.ClassMedia,
	"application/x-mpegurl":         telemetry.ClassMedia,
	"audio/mpegurl":                 telemetry.ClassMedia,
	"audio/x-mpegurl":               telemetry.ClassMedia,
	"video/mp2t":                    telemetry.ClassSegment,
	"video/iso.segment":             telemetry.ClassSegment,
	"video/mp4":                     telemetry.ClassSegment,
	"audio/mp4":                     telemetry.ClassSegment,
	"audio/aac":                     telemetry.ClassSegment,
	"text/vtt":                      telemetry.ClassSegment,
	"audio/mpeg":                    telemetry.ClassOnDemand,
	"audio/flac":                    telemetry.ClassOnDemand,
	"audio/ogg":                     telemetry.ClassOnDemand,
	"audio/opus":                    telemetry.ClassOnDemand,
	"audio/wav":                     telemetry.ClassOnDemand,
	"audio/x-wav":                   telemetry.ClassOnDemand,
}

// refineByType classifies by the response's content type a request that
// its path left as api (an extension-less URL), unless a configured route
// rule chose the class: the rule wins. The cache key was already chosen by
// the api policy; a route rule is the way to give such URLs a media key.
func refineByType(cls telemetry.Class, fixed bool, contentType string) telemetry.Class {
	if cls != telemetry.ClassAPI || fixed {
		return cls
	}
	if i := strings.IndexByte(contentType, ';'); i >= 0 {
		contentType = contentType[:i]
	}
	if c, ok := mediaTypes[strings.ToLower(strings.TrimSpace(contentType))]; ok {
		return c
	}
	return cls
}
