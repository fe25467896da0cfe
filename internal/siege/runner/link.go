package runner

import (
	"fmt"
	"math"
	"time"

	"github.com/rempart/rempart/internal/siege/link"
	"github.com/rempart/rempart/internal/siege/report"
	"github.com/rempart/rempart/internal/siege/scenario"
)

// fullShare is the share of the capacity a second must carry to count
// as one where the link was full (report.Link.FullSeconds).
const fullShare = 0.95

// newLink builds the run's link: the scenario's, unless override (the
// Config's LinkMbps) replaces it (above 0) or removes it (below 0). Nil:
// no link.
func newLink(s *scenario.Scenario, override float64) (*link.Link, error) {
	mbps := s.Link.Mbps
	switch {
	case math.IsNaN(override):
		return nil, fmt.Errorf("link capacity %v: want Mbit/s above 0, 0 (the scenario's) or below 0 (none)", override)
	case override > 0:
		mbps = override
	case override < 0:
		mbps = 0
	}
	if mbps == 0 {
		return nil, nil
	}
	return link.New(mbps)
}

// linkMeter turns the link's byte count into per-second figures. Only
// the tick goroutine uses it.
type linkMeter struct {
	l    *link.Link
	last int64
	at   time.Time
}

// second returns the Mbit/s carried since the previous call (nil without
// a link).
func (m *linkMeter) second(now time.Time) *float64 {
	if m.l == nil {
		return nil
	}
	b := m.l.Stats.Bytes.Load()
	el := now.Sub(m.at).Seconds()
	mbps := 0.0
	if el > 0 {
		mbps = float64(b-m.last) * 8 / 1e6 / el
	}
	m.last, m.at = b, now
	return &mbps
}

// linkAccount is the report's link section for a run of the given
// length and series; nil without a link.
func linkAccount(l *link.Link, seconds float64, series []report.Second) *report.Link {
	if l == nil {
		return nil
	}
	a := &report.Link{
		Mbps:   l.Mbps(),
		Bytes:  l.Stats.Bytes.Load(),
		DelayS: time.Duration(l.Stats.Waited.Load()).Seconds(),
	}
	if seconds > 0 {
		a.MeanMbps = float64(a.Bytes) * 8 / 1e6 / seconds
		a.Utilization = a.MeanMbps / a.Mbps
	}
	for _, s := range series {
		if s.LinkMbps == nil {
			continue
		}
		a.PeakMbps = max(a.PeakMbps, *s.LinkMbps)
		if *s.LinkMbps >= fullShare*a.Mbps {
			a.FullSeconds++
		}
	}
	return a
}
