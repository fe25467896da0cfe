package runner

import (
	"strconv"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/rempart/rempart/internal/siege/report"
	"github.com/rempart/rempart/internal/siege/scenario"
	"github.com/rempart/rempart/internal/siege/sim"
)

// Pops returns the whole-run account of each population of s. Call it once
// the clients are done.
func (r *Recorder) Pops(s *scenario.Scenario) []report.Pop {
	out := make([]report.Pop, len(r.pops))
	for i, p := range r.pops {
		sp := s.Populations[i]
		out[i] = report.Pop{
			Name: sp.Name, Model: sp.Model, Role: sp.Role,
			Clients:    p.clients.Load(),
			Requests:   p.requests.Load(),
			Errors:     p.errors.Load(),
			Held:       p.held.Load(),
			Challenged: p.challenged.Load(),
			Bytes:      p.bytes.Load(),
			Status:     p.statusCounts(),
			MaxConn:    p.maxConns.Load(),
		}
		out[i].Latency, out[i].ByKind = p.latency()
		if first, refused := p.firstReq.Load(), p.firstRefused.Load(); first > 0 && refused > 0 {
			after := max(float64(refused-first)/1e9, 0)
			out[i].RefusedAfterS = &after
		}
		if sp.Role == scenario.RoleViewer {
			out[i].Viewers = p.viewerAccount()
		}
	}
	return out
}

func (p *popRec) statusCounts() map[string]int64 {
	m := map[string]int64{}
	for code := range p.status {
		if n := p.status[code].Load(); n > 0 {
			key := strconv.Itoa(code)
			if code == 0 {
				key = "error"
			}
			m[key] = n
		}
	}
	if n := p.skipped.Load(); n > 0 {
		m["skipped"] = n
	}
	if n := p.canceled.Load(); n > 0 {
		m["canceled"] = n
	}
	return m
}

func (p *popRec) latency() (report.Percentiles, map[string]report.Percentiles) {
	all := newHist()
	byKind := map[string]report.Percentiles{}
	for k := range sim.NumKinds {
		h := newHist()
		for j := range p.shards {
			s := &p.shards[j]
			s.mu.Lock()
			if s.kinds[k] != nil {
				h.Merge(s.kinds[k])
			}
			s.mu.Unlock()
		}
		if h.TotalCount() > 0 {
			byKind[kindNames[k]] = percentiles(h)
			all.Merge(h)
		}
	}
	if len(byKind) == 0 {
		byKind = nil
	}
	return percentiles(all), byKind
}

func (p *popRec) viewerAccount() *report.Viewers {
	p.viewerMu.Lock()
	defer p.viewerMu.Unlock()
	a := &p.viewers
	v := &report.Viewers{
		Viewers: a.n, Started: a.started, StallFree: a.stallFree,
		Stalls: a.stalls, StallSeconds: a.stallTime.Seconds(),
		Switches: a.switches, Errors: a.errors, Refused: a.refused,
		StartupMs: percentiles(a.startup), QueuedMs: percentiles(a.queued),
	}
	if a.n > 0 {
		v.StallFreeRatio = float64(a.stallFree) / float64(a.n)
	}
	if a.bitrateN > 0 {
		v.MeanBitrate = a.bitrateSum / float64(a.bitrateN)
	}
	return v
}

func percentiles(h *hdr.Histogram) report.Percentiles {
	if h.TotalCount() == 0 {
		return report.Percentiles{}
	}
	return report.Percentiles{
		Count: h.TotalCount(),
		P50:   ms(h.ValueAtQuantile(50)),
		P90:   ms(h.ValueAtQuantile(90)),
		P95:   ms(h.ValueAtQuantile(95)),
		P99:   ms(h.ValueAtQuantile(99)),
		P999:  ms(h.ValueAtQuantile(99.9)),
		Max:   ms(h.Max()),
	}
}
