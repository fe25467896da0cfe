package attack

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
)

// A path template is what a bot asks for, with parts drawn anew for every
// request, so that a scenario can say "random segment names" or "one of
// these objects" in one string:
//
//	/live/{240p|360p}/x{rand}.ts?cb={rand}
//
//   - {rand} is 16 random hex digits (64 bits: never the same twice);
//   - {a|b|c} is one of the alternatives, picked uniformly (an
//     alternative may be empty: /x.ts{|?cb=1});
//   - anything else is literal. Braces do not nest; a literal brace cannot
//     be written (no path siege asks needs one).

// maxTemplate bounds a template's length and its alternatives, so that a
// scenario cannot make a bot build unbounded requests.
const (
	maxTemplate     = 1024
	maxAlternatives = 256
	randDigits      = 16
)

// errTemplate is wrapped by every template parse error.
var errTemplate = errors.New("path template")

// template is a parsed path template: literal parts and draws.
type template []tmplPart

// tmplPart is a literal (alts nil, rand false), {rand}, or {a|b}.
type tmplPart struct {
	lit  string
	rand bool
	alts []string
}

// parseTemplate parses s; errors name the template and what is wrong.
func parseTemplate(s string) (template, error) {
	if s == "" || len(s) > maxTemplate {
		return nil, fmt.Errorf("%w %.60q: want a path of 1 to %d bytes", errTemplate, s, maxTemplate)
	}
	var t template
	rest := s
	for rest != "" {
		open := strings.IndexAny(rest, "{}")
		if open < 0 {
			t = append(t, tmplPart{lit: rest})
			break
		}
		if rest[open] == '}' {
			return nil, fmt.Errorf("%w %q: a } without its {", errTemplate, s)
		}
		if open > 0 {
			t = append(t, tmplPart{lit: rest[:open]})
		}
		end := strings.IndexAny(rest[open+1:], "{}")
		if end < 0 || rest[open+1+end] == '{' {
			return nil, fmt.Errorf("%w %q: a { without its } (braces do not nest)", errTemplate, s)
		}
		p, err := parseDraw(s, rest[open+1:open+1+end])
		if err != nil {
			return nil, err
		}
		t = append(t, p)
		rest = rest[open+1+end+1:]
	}
	return t, nil
}

// parseDraw parses the inside of one pair of braces.
func parseDraw(s, inner string) (tmplPart, error) {
	if inner == "rand" {
		return tmplPart{rand: true}, nil
	}
	if !strings.Contains(inner, "|") {
		return tmplPart{}, fmt.Errorf("%w %q: {%s}: want {rand} or alternatives such as {240p|360p}", errTemplate, s, inner)
	}
	alts := strings.Split(inner, "|")
	if len(alts) > maxAlternatives {
		return tmplPart{}, fmt.Errorf("%w %q: %d alternatives: want at most %d", errTemplate, s, len(alts), maxAlternatives)
	}
	return tmplPart{alts: alts}, nil
}

// appendTo appends one drawing of the template to dst.
func (t template) appendTo(dst []byte) []byte {
	for _, p := range t {
		switch {
		case p.rand:
			dst = appendHex(dst, randDigits)
		case p.alts != nil:
			dst = append(dst, p.alts[rand.IntN(len(p.alts))]...)
		default:
			dst = append(dst, p.lit...)
		}
	}
	return dst
}

// parseTemplates parses every path of a bot's list; a path without its
// leading slash gets one.
func parseTemplates(paths []string) ([]template, error) {
	ts := make([]template, 0, len(paths))
	for _, p := range paths {
		if !strings.HasPrefix(p, "/") {
			p = "/" + p
		}
		t, err := parseTemplate(p)
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	return ts, nil
}
