package runner

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/rempart/rempart/internal/siege/report"
	"github.com/rempart/rempart/internal/siege/scenario"
)

// Progress writes one line per second of a run: phase, elapsed time, the
// viewers' states, requests per second by population and the error rate.
// On a terminal (Refresh) the line is rewritten in place.
type Progress struct {
	mu      sync.Mutex // guards w and wrote
	w       io.Writer
	refresh bool
	wrote   bool
}

// NewProgress returns a progress view writing to w; refresh rewrites one
// line in place (for a terminal) instead of printing a line per second.
func NewProgress(w io.Writer, refresh bool) *Progress {
	return &Progress{w: w, refresh: refresh}
}

// Tick writes the line for t; use it as Config.Progress.
func (p *Progress) Tick(t Tick) {
	line := progressLine(t)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.refresh {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
	p.wrote = true
}

// Close ends the refreshed line, so that what follows starts on its own.
func (p *Progress) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.refresh && p.wrote {
		fmt.Fprintln(p.w)
	}
}

func progressLine(t Tick) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s %s]", t.Phase, clock(t.Elapsed))
	var starting, queued, playing, stalled, req, errs, held int64
	var rates []string
	for i, ps := range t.Second.Pops {
		req += ps.Requests
		errs += ps.Errors
		held += ps.Held
		rates = append(rates, fmt.Sprintf("%s %s", t.Pops[i].Name, si(ps.Requests)))
		if t.Pops[i].Role == scenario.RoleViewer {
			starting += ps.Starting
			queued += ps.Queued
			playing += ps.Playing
			stalled += ps.Stalled
		}
	}
	fmt.Fprintf(&b, " viewers: %d starting, %d playing, %d stalled, %d queued", starting, playing, stalled, queued)
	fmt.Fprintf(&b, " | req/s: %s", strings.Join(rates, ", "))
	if req > held {
		fmt.Fprintf(&b, " | errors %.1f%%", 100*report.ErrorRatio(errs, req, held))
	}
	if held > 0 {
		fmt.Fprintf(&b, ", %s held", si(held))
	}
	if l := t.Second.LinkMbps; l != nil {
		fmt.Fprintf(&b, " | link %.1f Mbit/s", *l)
	}
	return b.String()
}

func clock(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}

// si writes n with a k or M suffix: 12, 3.4k, 1.2M.
func si(n int64) string {
	switch {
	case n >= 1_000_000:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 1000:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}
