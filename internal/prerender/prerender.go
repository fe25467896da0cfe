// Package prerender holds the pages the edge writes itself (the waiting
// page, the challenge page) rendered once, with a sentinel standing for
// each per-request value, and split around those holes: serving one is a
// few writes, not a template execution, which matters for a page an attack
// or a crowd gets most. It is a leaf: it imports nothing of rempart.
package prerender

import (
	"fmt"
	"io"
	"strings"
)

// Page is a rendered page split around its holes.
type Page struct {
	lits  []string // len(holes)+1 literal pieces around the holes
	holes []int    // at each hole, the index of the sentinel found there
	size  int      // total length of lits
}

// Split cuts html at each occurrence of the sentinels (strings that the
// page's escaping leaves unchanged). It fails when one of them is not in
// the page: its value would never be written.
func Split(html string, sentinels []string) (Page, error) {
	var p Page
	seen := make([]bool, len(sentinels))
	for {
		at, which := -1, 0
		for i, s := range sentinels {
			if j := strings.Index(html, s); j >= 0 && (at < 0 || j < at) {
				at, which = j, i
			}
		}
		if at < 0 {
			break
		}
		p.lits = append(p.lits, html[:at])
		p.holes = append(p.holes, which)
		seen[which] = true
		html = html[at+len(sentinels[which]):]
	}
	p.lits = append(p.lits, html)
	for _, s := range p.lits {
		p.size += len(s)
	}
	for i, ok := range seen {
		if !ok {
			return p, fmt.Errorf("the page lacks the field %s", sentinels[i])
		}
	}
	return p, nil
}

// Len is the length of the page with vals in its holes (vals[i] where the
// i-th sentinel stood), unescaped.
func (p *Page) Len(vals []string) int {
	n := p.size
	for _, h := range p.holes {
		n += len(vals[h])
	}
	return n
}

// Write writes the page to w with vals in its holes, each passed through
// esc when it is not nil.
func (p *Page) Write(w io.Writer, vals []string, esc *strings.Replacer) {
	for i, h := range p.holes {
		io.WriteString(w, p.lits[i])
		if esc != nil {
			esc.WriteString(w, vals[h])
		} else {
			io.WriteString(w, vals[h])
		}
	}
	io.WriteString(w, p.lits[len(p.holes)])
}
