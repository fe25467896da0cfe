// Package httplang negotiates the few pages the edge writes itself: their
// language, from a request's Accept-Language header (RFC 9110 §12.5.4),
// and whether a request is a browser navigating to a page at all
// (Navigating). It is a leaf: it imports nothing of rempart.
//
// Matching follows RFC 4647: a language range matches a supported tag when
// it equals it, when it is a prefix of it ("fr" matches "fr-CA", basic
// filtering), or when the tag is a prefix of it ("fr-CA" matches "fr",
// lookup's truncation); "*" matches anything. Case is ignored.
package httplang

import "strings"

// Pick returns the member of supported that the header asks for most: the
// one with the highest quality value, ties going to the range listed first
// in the header, then to the tag that range matches most closely, then to
// the tag listed first in supported. Each tag takes
// its quality from the most specific range that matches it, so
// "fr-CA;q=0, fr" refuses fr-CA but accepts fr.
//
// When the header is empty, malformed or accepts none of them, Pick returns
// supported[0], the default; with no supported tags it returns "". Pick
// never allocates, and its cost is linear in the header's length times the
// number of supported tags.
func Pick(header string, supported ...string) string {
	if len(supported) == 0 {
		return ""
	}
	best, bestM := supported[0], match{}
	for _, tag := range supported {
		if m := quality(header, tag); m.better(bestM) {
			best, bestM = tag, m
		}
	}
	return best
}

// match is how a header accepts one tag: with quality q, in thousandths,
// by the range at index at in the header, whose specificity is spec.
type match struct {
	q, at, spec int
}

// better reports whether m beats o: a higher quality, then an earlier
// range, then a closer one. A quality of 0 beats nothing.
func (m match) better(o match) bool {
	switch {
	case m.q != o.q:
		return m.q > o.q
	case m.q == 0:
		return false
	case m.at != o.at:
		return m.at < o.at
	}
	return m.spec > o.spec
}

// quality returns how header accepts tag: the quality of the most specific
// range that matches it, the first such range if several do. A tag no range
// matches has quality 0.
func quality(header, tag string) match {
	m := match{spec: -1}
	for i := 0; header != ""; i++ {
		var item string
		item, header, _ = strings.Cut(header, ",")
		rng, q, ok := parseItem(item)
		if !ok {
			continue
		}
		if s := specificity(rng, tag); s > m.spec {
			m = match{q: q, at: i, spec: s}
		}
	}
	return m
}

// parseItem splits one element of the header, `fr-CA;q=0.8`, into its range
// and its quality in thousandths (1000 when absent). ok is false for an
// empty range or a malformed quality, and such an element is ignored.
func parseItem(item string) (rng string, q int, ok bool) {
	rng, params, _ := strings.Cut(item, ";")
	rng = strings.TrimSpace(rng)
	if rng == "" {
		return "", 0, false
	}
	q = 1000
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		name, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(name), "q") {
			if q, ok = parseQ(strings.TrimSpace(v)); !ok {
				return "", 0, false
			}
		}
	}
	return rng, q, true
}

// parseQ reads a qvalue as RFC 9110 §12.4.2 writes it: 0, 1, or either
// followed by a dot and at most three digits, at most 1.000.
func parseQ(s string) (int, bool) {
	if s == "" || (s[0] != '0' && s[0] != '1') {
		return 0, false
	}
	q := int(s[0]-'0') * 1000
	if len(s) == 1 {
		return q, true
	}
	if s[1] != '.' || len(s) > 5 {
		return 0, false
	}
	scale := 100
	for _, c := range []byte(s[2:]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		q += int(c-'0') * scale
		scale /= 10
	}
	return q, q <= 1000
}

// specificity says how closely rng matches tag: -1 when it does not, 0 for
// "*", otherwise the length of the part they share, plus one when they are
// equal, so that an exact range outranks one that only shares a prefix.
func specificity(rng, tag string) int {
	switch {
	case rng == "*":
		return 0
	case strings.EqualFold(rng, tag):
		return len(tag) + 1
	case isPrefix(rng, tag):
		return len(rng)
	case isPrefix(tag, rng):
		return len(tag)
	}
	return -1
}

// isPrefix reports whether p is a whole-subtag prefix of s: "fr" of "fr-CA",
// not of "fra".
func isPrefix(p, s string) bool {
	return len(p) < len(s) && s[len(p)] == '-' && strings.EqualFold(s[:len(p)], p)
}
