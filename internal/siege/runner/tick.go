package runner

import (
	"context"
	"time"

	"github.com/rempart/rempart/internal/siege/report"
)

// tick snapshots the recorder once a second (and reads the origin's
// metrics) until done is closed, then adds the last partial second. It
// returns the series.
func (r *run) tick(ctx context.Context, done <-chan struct{}) []report.Second {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var series []report.Second
	for sec := 0; ; sec++ {
		select {
		case <-t.C:
			series = append(series, r.second(ctx, sec))
		case <-done:
			if time.Since(r.start) > time.Duration(sec)*time.Second+100*time.Millisecond {
				series = append(series, r.second(ctx, sec))
			}
			return series
		}
	}
}

func (r *run) second(ctx context.Context, sec int) report.Second {
	s := report.Second{T: sec, Phase: r.phaseAt(time.Duration(sec) * time.Second), Pops: r.rec.Snapshot()}
	s.OriginRequests = r.origin.delta(ctx)
	s.LinkMbps = r.meter.second(time.Now())
	if r.cfg.Progress != nil {
		r.cfg.Progress(Tick{
			Elapsed: time.Since(r.start),
			Phase:   s.Phase,
			Pops:    r.s.Populations,
			Second:  s,
			Budget:  r.env.Budget.Left(),
		})
	}
	return s
}
