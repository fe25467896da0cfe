package hls

import (
	"bytes"
	"fmt"
	"strings"
)

// Master is a master (multivariant) playlist.
type Master struct {
	Version     int  // EXT-X-VERSION; 0 when absent
	Independent bool // EXT-X-INDEPENDENT-SEGMENTS
	// Variants are the EXT-X-STREAM-INF entries, in order. Removing one
	// removes its lines from Encode's output; reordering has no effect.
	Variants []*Variant

	lines  []line
	owners []*Variant // owners[i] is the variant line i belongs to, or nil
}

// Variant is one EXT-X-STREAM-INF entry: a rendition of the stream.
type Variant struct {
	Bandwidth        int64   // BANDWIDTH, bits/s (peak); always > 0
	AverageBandwidth int64   // AVERAGE-BANDWIDTH, bits/s; 0 when absent
	Width, Height    int     // RESOLUTION; 0 when absent
	Codecs           string  // CODECS, as written; "" when absent
	FrameRate        float64 // FRAME-RATE; 0 when absent
	// URI is the variant's media playlist, as written (relative to the
	// master). Changing it changes the URI line Encode writes.
	URI   string
	Attrs Attrs // every attribute of the tag, in order

	uri     string // URI as parsed
	uriLine int    // index of the URI line
}

// ParseMaster parses a master playlist.
func ParseMaster(data []byte) (*Master, error) {
	lines, err := splitLines(data)
	if err != nil {
		return nil, err
	}
	m := &Master{lines: lines, owners: make([]*Variant, len(lines))}
	var open *Variant // a STREAM-INF waiting for its URI
	for i := 1; i < len(lines); i++ {
		text := lines[i].text
		switch kindOf(text) {
		case lineURI:
			if open == nil {
				return nil, syntaxErr(i+1, "URI line %.40q without #EXT-X-STREAM-INF", text)
			}
			open.URI, open.uri, open.uriLine = text, text, i
			m.owners[i] = open
			open = nil
		case lineTag:
			v, err := m.tag(i, text, open != nil)
			if err != nil {
				return nil, err
			}
			if v != nil {
				open = v
				m.Variants = append(m.Variants, v)
			}
		}
		if open != nil {
			m.owners[i] = open
		}
	}
	if open != nil {
		return nil, syntaxErr(len(lines), "#EXT-X-STREAM-INF has no URI line after it")
	}
	return m, nil
}

// tag handles one tag line of a master playlist; it returns the variant a
// STREAM-INF starts.
func (m *Master) tag(i int, text string, open bool) (*Variant, error) {
	name, value := tag(text)
	switch {
	case name == "#EXT-X-STREAM-INF":
		if open {
			return nil, syntaxErr(i+1, "#EXT-X-STREAM-INF before the URI of the previous one")
		}
		v, err := parseVariant(value)
		if err != nil {
			return nil, syntaxErr(i+1, "#EXT-X-STREAM-INF: %v", err)
		}
		return v, nil
	case name == "#EXT-X-VERSION":
		n, err := parseDecimalInt(value)
		if err != nil || n > 1000 {
			return nil, syntaxErr(i+1, "#EXT-X-VERSION: %q is not a version number", value)
		}
		m.Version = int(n)
	case name == "#EXT-X-INDEPENDENT-SEGMENTS":
		m.Independent = true
	case isOneOf(name, mediaTags):
		return nil, syntaxErr(i+1, "media playlist tag %s in a master playlist", name)
	}
	return nil, nil
}

// parseVariant reads the attributes of an EXT-X-STREAM-INF.
func parseVariant(value string) (*Variant, error) {
	attrs, err := ParseAttrs(value)
	if err != nil {
		return nil, err
	}
	v := &Variant{Attrs: attrs}
	bw, ok := attrs.Get("BANDWIDTH")
	if !ok {
		return nil, fmt.Errorf("BANDWIDTH is required")
	}
	if v.Bandwidth, err = parseDecimalInt(bw); err != nil || v.Bandwidth == 0 {
		return nil, fmt.Errorf("BANDWIDTH %q: want a positive decimal integer", bw)
	}
	if s, ok := attrs.Get("AVERAGE-BANDWIDTH"); ok {
		if v.AverageBandwidth, err = parseDecimalInt(s); err != nil {
			return nil, fmt.Errorf("AVERAGE-BANDWIDTH: %v", err)
		}
	}
	if s, ok := attrs.Get("RESOLUTION"); ok {
		if v.Width, v.Height, err = parseResolution(s); err != nil {
			return nil, err
		}
	}
	if s, ok := attrs.Get("FRAME-RATE"); ok {
		if v.FrameRate, err = parseDecimalFloat(s); err != nil {
			return nil, fmt.Errorf("FRAME-RATE: %v", err)
		}
	}
	v.Codecs, _ = attrs.Get("CODECS")
	return v, nil
}

// Encode returns the playlist: every line as parsed, less those of
// variants removed from Variants, with changed variant URIs written anew.
func (m *Master) Encode() []byte {
	kept := make(map[*Variant]bool, len(m.Variants))
	for _, v := range m.Variants {
		kept[v] = true
	}
	var b bytes.Buffer
	b.Grow(encodedSize(m.lines))
	for i, l := range m.lines {
		v := m.owners[i]
		switch {
		case v != nil && !kept[v]:
			continue
		case v != nil && i == v.uriLine && v.URI != v.uri:
			b.WriteString(strings.NewReplacer("\r", "", "\n", "").Replace(v.URI))
		default:
			b.WriteString(l.text)
		}
		b.WriteString(l.eol)
	}
	return b.Bytes()
}

func encodedSize(lines []line) int {
	n := 0
	for _, l := range lines {
		n += len(l.text) + len(l.eol)
	}
	return n
}
