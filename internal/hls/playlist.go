// Package hls parses and re-encodes HLS playlists (RFC 8216, with the
// low-latency parts of its successor draft). A parsed playlist keeps every
// line it was given, in order, tags it does not understand included, so
// that Encode gives back the input byte for byte when nothing was changed,
// and a rewrite (dropping variants, changing URIs) touches only what it
// changes.
//
// The parser is strict where a player would be misled (a segment without a
// duration, a variant without a bandwidth, a tag of the other playlist type)
// and bounded: at most MaxSize bytes and MaxLines lines.
package hls

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// Input bounds: a playlist larger than this is refused before any work.
const (
	MaxSize  = 4 << 20 // bytes
	MaxLines = 100_000
)

// Errors callers can test with errors.Is.
var (
	// ErrTooLarge is wrapped by the error for input over MaxSize or MaxLines.
	ErrTooLarge = errors.New("hls: playlist too large")
	// ErrSyntax is wrapped by every *SyntaxError.
	ErrSyntax = errors.New("hls: syntax error")
)

// SyntaxError tells which line of a playlist is wrong and why.
type SyntaxError struct {
	Line int    // 1-based line number
	Msg  string // what is wrong
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("hls: line %d: %s", e.Line, e.Msg) }

// Unwrap makes every SyntaxError match ErrSyntax.
func (e *SyntaxError) Unwrap() error { return ErrSyntax }

func syntaxErr(line int, format string, args ...any) error {
	return &SyntaxError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// Playlist is a parsed master (*Master) or media (*Media) playlist.
type Playlist interface {
	// Encode returns the playlist as text: the input, byte for byte, when
	// nothing was changed.
	Encode() []byte
}

// Parse parses data as a master playlist when it has a tag only master
// playlists carry (EXT-X-STREAM-INF, EXT-X-MEDIA...), else as a media
// playlist.
func Parse(data []byte) (Playlist, error) {
	if IsMaster(data) {
		return ParseMaster(data)
	}
	return ParseMedia(data)
}

// IsMaster reports whether data has a tag that only master playlists carry.
// It does not validate data.
func IsMaster(data []byte) bool {
	for _, tag := range masterTags {
		if bytes.Contains(data, []byte(tag)) {
			return true
		}
	}
	return false
}

// line is one line of a playlist as given: its text and its terminator
// ("\n", "\r\n", or "" for a last line without one).
type line struct {
	text string
	eol  string
}

// splitLines checks the bounds and the #EXTM3U header and splits data into
// lines.
func splitLines(data []byte) ([]line, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), MaxSize)
	}
	if n := bytes.Count(data, []byte{'\n'}); n >= MaxLines {
		return nil, fmt.Errorf("%w: over %d lines", ErrTooLarge, MaxLines)
	}
	s := string(data)
	lines := make([]line, 0, strings.Count(s, "\n")+1)
	for len(s) > 0 {
		l := line{text: s}
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			l.text, l.eol, s = s[:i], "\n", s[i+1:]
			if t, ok := strings.CutSuffix(l.text, "\r"); ok {
				l.text, l.eol = t, "\r\n"
			}
		} else {
			s = ""
		}
		lines = append(lines, l)
	}
	if len(lines) == 0 || strings.TrimRight(lines[0].text, " \t") != "#EXTM3U" {
		return nil, syntaxErr(1, "first line must be #EXTM3U")
	}
	return lines, nil
}

// tag splits a tag line into its name ("#EXT-X-VERSION") and value.
func tag(text string) (name, value string) {
	name, value, _ = strings.Cut(text, ":")
	return name, value
}

// kindOf classifies a line: blank, comment, tag or URI.
type lineKind uint8

const (
	lineBlank lineKind = iota
	lineComment
	lineTag
	lineURI
)

func kindOf(text string) lineKind {
	switch {
	case strings.TrimSpace(text) == "":
		return lineBlank
	case strings.HasPrefix(text, "#EXT"):
		return lineTag
	case text[0] == '#':
		return lineComment
	}
	return lineURI
}

// Tags that belong to one playlist type only: finding one in the other type
// is an error (RFC 8216 §4.1: a playlist is one or the other).
var (
	masterTags = []string{"#EXT-X-STREAM-INF", "#EXT-X-I-FRAME-STREAM-INF", "#EXT-X-MEDIA:",
		"#EXT-X-SESSION-DATA", "#EXT-X-SESSION-KEY", "#EXT-X-CONTENT-STEERING"}
	mediaTags = []string{"#EXTINF", "#EXT-X-TARGETDURATION", "#EXT-X-MEDIA-SEQUENCE",
		"#EXT-X-DISCONTINUITY-SEQUENCE", "#EXT-X-ENDLIST", "#EXT-X-PLAYLIST-TYPE",
		"#EXT-X-I-FRAMES-ONLY", "#EXT-X-PART", "#EXT-X-PART-INF", "#EXT-X-BYTERANGE",
		"#EXT-X-DISCONTINUITY", "#EXT-X-PRELOAD-HINT", "#EXT-X-RENDITION-REPORT",
		"#EXT-X-SKIP", "#EXT-X-SERVER-CONTROL", "#EXT-X-GAP", "#EXT-X-MAP", "#EXT-X-KEY"}
)

// isOneOf reports whether the tag name is exactly one of names (names with
// a trailing ':' match the name before it).
func isOneOf(name string, names []string) bool {
	for _, n := range names {
		if name == strings.TrimSuffix(n, ":") {
			return true
		}
	}
	return false
}
