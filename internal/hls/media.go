package hls

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"time"
)

// maxDuration bounds every duration a media playlist states.
const maxDuration = 24 * time.Hour

// Media is a media playlist: the segments of one rendition.
type Media struct {
	Version        int           // EXT-X-VERSION; 0 when absent
	TargetDuration time.Duration // EXT-X-TARGETDURATION (required; > 0)
	MediaSequence  int64         // EXT-X-MEDIA-SEQUENCE: the first segment's number
	// DiscontinuitySequence is EXT-X-DISCONTINUITY-SEQUENCE.
	DiscontinuitySequence int64
	PlaylistType          string        // EXT-X-PLAYLIST-TYPE (EVENT, VOD) or ""
	EndList               bool          // EXT-X-ENDLIST: no segment will be added
	PartTarget            time.Duration // EXT-X-PART-INF PART-TARGET; 0 when absent
	ServerControl         Attrs         // EXT-X-SERVER-CONTROL; nil when absent
	PreloadHint           Attrs         // EXT-X-PRELOAD-HINT; nil when absent
	Segments              []*Segment
	// Pending are the parts listed after the last segment: the segment
	// being produced (LL-HLS).
	Pending []Part

	lines []line
	uris  []*Segment // uris[i] is the segment whose URI is line i, or nil
}

// Segment is one media segment.
type Segment struct {
	Seq           int64         // media sequence number
	Duration      time.Duration // EXTINF duration
	Title         string        // EXTINF title; "" when absent
	Discontinuity bool          // preceded by EXT-X-DISCONTINUITY
	Gap           bool          // EXT-X-GAP: the segment is missing
	Parts         []Part        // EXT-X-PART entries that make up the segment
	// URI is the segment's address as written (relative to the playlist).
	// Changing it changes the line Encode writes.
	URI string

	uri string
}

// Part is one EXT-X-PART: a partial segment (LL-HLS).
type Part struct {
	Duration    time.Duration
	URI         string
	Independent bool
	Gap         bool
}

// ParseMedia parses a media playlist.
func ParseMedia(data []byte) (*Media, error) {
	lines, err := splitLines(data)
	if err != nil {
		return nil, err
	}
	p := &Media{lines: lines, uris: make([]*Segment, len(lines))}
	next := &Segment{} // collects the tags of the segment to come
	hasInf, hasTarget := false, false
	for i := 1; i < len(lines); i++ {
		text := lines[i].text
		switch kindOf(text) {
		case lineURI:
			if !hasInf {
				return nil, syntaxErr(i+1, "URI line %.40q without #EXTINF", text)
			}
			next.URI, next.uri = text, text
			next.Seq = p.MediaSequence + int64(len(p.Segments))
			p.Segments = append(p.Segments, next)
			p.uris[i] = next
			next, hasInf = &Segment{}, false
		case lineTag:
			if err := p.tag(i+1, text, next, &hasInf, &hasTarget); err != nil {
				return nil, err
			}
		}
	}
	if !hasTarget {
		return nil, syntaxErr(len(lines), "#EXT-X-TARGETDURATION is required in a media playlist")
	}
	if hasInf {
		return nil, syntaxErr(len(lines), "#EXTINF has no URI line after it")
	}
	p.Pending = next.Parts
	return p, nil
}

// tag handles one tag line (number n) of a media playlist; seg collects
// the tags of the next segment.
func (p *Media) tag(n int, text string, seg *Segment, hasInf, hasTarget *bool) error {
	name, value := tag(text)
	var err error
	switch name {
	case "#EXTINF":
		if *hasInf {
			return syntaxErr(n, "#EXTINF before the URI of the previous one")
		}
		*hasInf = true
		dur, title, _ := strings.Cut(value, ",")
		seg.Title = title
		seg.Duration, err = parseSeconds(dur)
	case "#EXT-X-TARGETDURATION":
		*hasTarget = true
		p.TargetDuration, err = parseSeconds(value)
		if err == nil && p.TargetDuration == 0 {
			err = fmt.Errorf("must be positive")
		}
		if r := p.TargetDuration % time.Second; r != 0 { // an integer by the RFC: round up
			p.TargetDuration += time.Second - r
		}
	case "#EXT-X-MEDIA-SEQUENCE":
		err = p.sequence(&p.MediaSequence, value)
	case "#EXT-X-DISCONTINUITY-SEQUENCE":
		err = p.sequence(&p.DiscontinuitySequence, value)
	case "#EXT-X-VERSION":
		var v int64
		if v, err = parseDecimalInt(value); err == nil && v > 1000 {
			err = fmt.Errorf("%d is not a version number", v)
		}
		p.Version = int(v)
	default:
		err = p.flagTag(n, name, value, seg)
	}
	if err != nil {
		if _, ok := err.(*SyntaxError); ok {
			return err
		}
		return syntaxErr(n, "%s: %v", name, err)
	}
	return nil
}

// sequence sets a sequence number; it must come before the first segment.
func (p *Media) sequence(dst *int64, value string) error {
	if len(p.Segments) > 0 {
		return fmt.Errorf("after the first segment")
	}
	n, err := parseDecimalInt(value)
	if err != nil || n > math.MaxInt64/2 {
		return fmt.Errorf("%q: want a decimal integer", value)
	}
	*dst = n
	return nil
}

// flagTag handles the tags that set a flag or an attribute list.
func (p *Media) flagTag(n int, name, value string, seg *Segment) error {
	var err error
	switch name {
	case "#EXT-X-DISCONTINUITY":
		seg.Discontinuity = true
	case "#EXT-X-GAP":
		seg.Gap = true
	case "#EXT-X-ENDLIST":
		p.EndList = true
	case "#EXT-X-PLAYLIST-TYPE":
		if value != "EVENT" && value != "VOD" {
			return fmt.Errorf("%q: want EVENT or VOD", value)
		}
		p.PlaylistType = value
	case "#EXT-X-PART":
		var part Part
		if part, err = parsePart(value); err == nil {
			seg.Parts = append(seg.Parts, part)
		}
	case "#EXT-X-PART-INF":
		err = p.partInf(value)
	case "#EXT-X-SERVER-CONTROL":
		p.ServerControl, err = ParseAttrs(value)
	case "#EXT-X-PRELOAD-HINT":
		p.PreloadHint, err = ParseAttrs(value)
	default:
		if isOneOf(name, masterTags) {
			return syntaxErr(n, "master playlist tag %s in a media playlist", name)
		}
	}
	return err
}

func (p *Media) partInf(value string) error {
	attrs, err := ParseAttrs(value)
	if err != nil {
		return err
	}
	v, ok := attrs.Get("PART-TARGET")
	if !ok {
		return fmt.Errorf("PART-TARGET is required")
	}
	p.PartTarget, err = parseSeconds(v)
	return err
}

// parsePart reads the attributes of an EXT-X-PART.
func parsePart(value string) (Part, error) {
	attrs, err := ParseAttrs(value)
	if err != nil {
		return Part{}, err
	}
	var part Part
	d, ok := attrs.Get("DURATION")
	if !ok {
		return part, fmt.Errorf("DURATION is required")
	}
	if part.Duration, err = parseSeconds(d); err != nil {
		return part, fmt.Errorf("DURATION: %v", err)
	}
	if part.URI, ok = attrs.Get("URI"); !ok || part.URI == "" {
		return part, fmt.Errorf("URI is required")
	}
	v, _ := attrs.Get("INDEPENDENT")
	part.Independent = v == "YES"
	v, _ = attrs.Get("GAP")
	part.Gap = v == "YES"
	return part, nil
}

// parseSeconds parses a decimal number of seconds, at most maxDuration.
func parseSeconds(v string) (time.Duration, error) {
	f, err := parseDecimalFloat(strings.TrimRight(v, " \t"))
	if err != nil {
		return 0, err
	}
	if f > maxDuration.Seconds() {
		return 0, fmt.Errorf("%s seconds is over %v", v, maxDuration)
	}
	return time.Duration(f * float64(time.Second)), nil
}

// Encode returns the playlist: every line as parsed, with changed segment
// URIs written anew.
func (p *Media) Encode() []byte {
	var b bytes.Buffer
	b.Grow(encodedSize(p.lines))
	for i, l := range p.lines {
		if s := p.uris[i]; s != nil && s.URI != s.uri {
			b.WriteString(strings.NewReplacer("\r", "", "\n", "").Replace(s.URI))
		} else {
			b.WriteString(l.text)
		}
		b.WriteString(l.eol)
	}
	return b.Bytes()
}

// Last returns the newest segment, or nil when there is none.
func (p *Media) Last() *Segment {
	if len(p.Segments) == 0 {
		return nil
	}
	return p.Segments[len(p.Segments)-1]
}
