package runner

import (
	"cmp"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/rempart/rempart/internal/siege/report"
	"github.com/rempart/rempart/internal/siege/sim"
)

// Admission accounting bounds and rules (docs/siege.md, "Admission").
const (
	// maxAdmissions bounds the admission records kept (about 200 bytes
	// each); viewers beyond are counted, not judged.
	maxAdmissions = 1 << 20
	// maxRenditions and maxReasons bound the per-rendition and per-reason
	// tables (their keys come from the target).
	maxRenditions = 32
	maxReasons    = 16
	// startGrace: an admitted viewer the run's end cut off less than this
	// after its admission, before its first picture, is not judged.
	startGrace = 10 * time.Second
	// waitTolerance is the relative error of a displayed wait that counts
	// as accurate.
	waitTolerance = 0.30
)

// admissionLog keeps the viewers' admission records until the report.
type admissionLog struct {
	mu         sync.Mutex // guards the fields below
	entries    []admEntry
	unrecorded int64
	reasons    map[string]int64
	played     map[string]*renditionPlay // admitted viewers' played time
}

// admEntry is one viewer's record (without its Played list) and what its
// playback was.
type admEntry struct {
	sim.Admission
	started, stallFree bool
}

// renditionPlay is the played time at one rendition.
type renditionPlay struct {
	seconds, bitSeconds float64
}

// add keeps v's admission record.
func (l *admissionLog) add(v sim.ViewerSummary) {
	a := v.Admission
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.entries) >= maxAdmissions {
		l.unrecorded++
		return
	}
	e := admEntry{Admission: *a, started: v.Started, stallFree: v.Started && v.Stalls == 0}
	e.Played = nil
	l.entries = append(l.entries, e)
	if a.Refused != "" {
		l.reason(a.Refused)
	}
	if a.WasAdmitted() {
		l.play(a.Played)
	}
}

func (l *admissionLog) reason(r string) {
	if l.reasons == nil {
		l.reasons = map[string]int64{}
	}
	if _, ok := l.reasons[r]; !ok && len(l.reasons) >= maxReasons {
		r = "other"
	}
	l.reasons[r]++
}

func (l *admissionLog) play(ps []sim.Played) {
	if l.played == nil {
		l.played = map[string]*renditionPlay{}
	}
	for _, p := range ps {
		rp := l.played[p.Rendition]
		if rp == nil {
			if len(l.played) >= maxRenditions {
				continue
			}
			rp = &renditionPlay{}
			l.played[p.Rendition] = rp
		}
		rp.seconds += p.Time.Seconds()
		rp.bitSeconds += p.Time.Seconds() * p.Bandwidth
	}
}

// account builds the report's admission section (nil when no viewer
// reported admission) and counts the admissions of each second of series,
// which starts at start.
func (l *admissionLog) account(start time.Time, series []report.Second) *report.Admission {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.entries) == 0 && l.unrecorded == 0 {
		return nil
	}
	a := &report.Admission{Viewers: l.unrecorded, Unrecorded: l.unrecorded, RefusedReasons: l.reasons}
	var queueTimes, waitErrs []float64
	var fifo []fifoViewer
	for i := range l.entries {
		e := &l.entries[i]
		if e.Arrived.IsZero() {
			continue // never sent a request: never arrived
		}
		a.Viewers++
		count(a, e)
		if !e.WasAdmitted() {
			continue
		}
		countAdmitted(a, e, start, series)
		if e.Queued() {
			queueTimes = append(queueTimes, e.Admitted.Sub(e.Ticketed).Seconds())
			waitErrs = judgeWait(&a.WaitAccuracy, e, waitErrs)
		}
		if e.Seq > 0 {
			fifo = append(fifo, fifoViewer{arrived: e.Arrived.UnixNano(), ticketed: unixNano(e.Ticketed), seq: e.Seq})
		}
	}
	a.QueueTime = spread(queueTimes)
	accuracy(&a.WaitAccuracy, waitErrs)
	a.FIFO = report.FIFO{Measured: len(fifo) > 0, Sequenced: int64(len(fifo))}
	a.FIFO.Violations, a.FIFO.ViewersInvolved = fifoViolations(fifo)
	l.renditions(a)
	return a
}

// count sorts one arrived viewer into the section's counts.
func count(a *report.Admission, e *admEntry) {
	switch {
	case e.WasAdmitted() && !e.Queued():
		a.AdmittedDirectly++
	case e.WasAdmitted():
		a.AdmittedFromQueue++
	case e.Queued() && e.RunEnded:
		a.StillWaiting++
	case e.Queued():
		a.GaveUp++
	}
	if !e.WasAdmitted() {
		a.NotAdmitted++
	}
	if e.Queued() {
		a.Queued++
	}
	if e.Refused != "" {
		a.Refused++
	}
	if e.Limited {
		a.Limited++
	}
	if e.Requeued > 0 {
		a.Requeued++
	}
}

// countAdmitted judges an admitted viewer's playback and counts its
// admission in the second it happened.
func countAdmitted(a *report.Admission, e *admEntry, start time.Time, series []report.Second) {
	if sec := e.Admitted.Sub(start); sec >= 0 && int(sec/time.Second) < len(series) {
		series[sec/time.Second].Admitted++
	}
	pb := &a.Playback
	if !e.started && e.RunEnded && e.Left.Sub(e.Admitted) < startGrace {
		pb.UnstartedAtEnd++
		return
	}
	pb.Viewers++
	if e.stallFree {
		pb.StallFree++
	}
	pb.StallFreeRatio = float64(pb.StallFree) / float64(pb.Viewers)
}

// judgeWait adds e's displayed-wait error to errs and counts it in w.
func judgeWait(w *report.WaitAccuracy, e *admEntry, errs []float64) []float64 {
	if e.Wait == sim.NoWait {
		return errs
	}
	rel, within := waitError(e.Wait, e.Admitted.Sub(e.WaitAt), e.Poll)
	w.Count++
	if within {
		w.Within++
	}
	return append(errs, rel)
}

// waitError returns the relative error of a displayed wait against the
// actual one, and whether it counts as accurate: within 30 % of the
// actual wait, or within one polling interval (poll, the last interval
// the viewer waited) of it, since siege learns of an admission only at its
// next poll.
func waitError(displayed, actual, poll time.Duration) (rel float64, within bool) {
	diff := (displayed - actual).Abs()
	rel = diff.Seconds() / max(actual, time.Millisecond).Seconds()
	return rel, rel <= waitTolerance || diff <= poll
}

// accuracy fills w's ratio and percentiles from the errors.
func accuracy(w *report.WaitAccuracy, errs []float64) {
	if w.Count == 0 {
		return
	}
	w.WithinRatio = float64(w.Within) / float64(w.Count)
	slices.Sort(errs)
	w.ErrorP50, w.ErrorP95 = quantile(errs, 0.50), quantile(errs, 0.95)
}

// renditions fills the played-time shares and the mean bitrate.
func (l *admissionLog) renditions(a *report.Admission) {
	var total, bits float64
	for _, rp := range l.played {
		total += rp.seconds
		bits += rp.bitSeconds
	}
	if total <= 0 {
		return
	}
	a.Playback.MeanBitrate = bits / total
	for name, rp := range l.played {
		a.Renditions = append(a.Renditions, report.RenditionShare{Rendition: name,
			Bandwidth: rp.bitSeconds / max(rp.seconds, 1e-9), Seconds: rp.seconds, Share: rp.seconds / total})
	}
	slices.SortFunc(a.Renditions, func(x, y report.RenditionShare) int {
		return cmp.Or(cmp.Compare(x.Bandwidth, y.Bandwidth), cmp.Compare(x.Rendition, y.Rendition))
	})
}

// spread summarizes seconds (sorted in place).
func spread(xs []float64) report.Spread {
	if len(xs) == 0 {
		return report.Spread{}
	}
	slices.Sort(xs)
	return report.Spread{Count: int64(len(xs)), P50: quantile(xs, 0.50), P95: quantile(xs, 0.95), Max: xs[len(xs)-1]}
}

// quantile is the nearest-rank q-quantile of sorted xs (not empty).
func quantile(xs []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(xs)))) - 1
	return xs[min(max(i, 0), len(xs)-1)]
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
