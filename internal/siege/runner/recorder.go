package runner

import (
	"context"
	"errors"
	"hash/maphash"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/rempart/rempart/internal/siege/report"
	"github.com/rempart/rempart/internal/siege/sim"
)

// Latency histograms hold microseconds from 1µs to 10 minutes with two
// significant digits (1% error): about 20 KB each, which matters because
// every population has one per object kind per shard.
const (
	histMax     = int64(10 * time.Minute / time.Microsecond)
	histDigits  = 2
	maxShards   = 8
	maxStatus   = 600     // status codes 0..599; 0 is "no response"
	maxSegments = 1 << 20 // distinct segment URIs remembered
)

// kindNames name sim.Kind in reports (Pop.ByKind).
var kindNames = [sim.NumKinds]string{"other", "master_playlist", "media_playlist", "segment", "ondemand", "api", "attack"}

var (
	_ sim.Recorder       = (*Recorder)(nil)
	_ sim.SegmentCounter = (*Recorder)(nil)
)

// Recorder is the runner's sim.Recorder: per population, cumulative
// counters (atomics), latency HdrHistograms sharded under small locks, state
// and connection gauges, and the viewers' summaries. Snapshot turns it into
// one report.Second; Pops into the whole-run account.
type Recorder struct {
	pops    []*popRec
	seed    maphash.Seed
	segMu   sync.Mutex          // guards segs
	segs    map[uint64]struct{} // hashes of the distinct segment URIs, at most maxSegments
	scratch *hdr.Histogram      // used by Snapshot only
	adm     admissionLog        // the viewers' admission records
}

// popRec is one population's measurements.
type popRec struct {
	// held counts the waiting-room holds (sim.ErrHeld), which are
	// requests but not errors.
	// challenged counts the challenges viewers went on to solve
	// (sim.ErrChallenged): requests, but neither refusals nor errors.
	requests, errors, held, challenged, bytes, segmentsOK atomic.Int64
	clients, skipped, canceled                            atomic.Int64
	status                                                [maxStatus]atomic.Int64
	states                                                [sim.NumStates]atomic.Int64
	conns, maxConns                                       atomic.Int64
	// firstReq and firstRefused are when the population's first answer
	// and first refusal (403, 429, 503) came, unix nanoseconds; 0: none.
	firstReq, firstRefused atomic.Int64
	shards                 []shard

	viewerMu sync.Mutex // guards viewers
	viewers  viewerAgg

	// last holds the counters at the previous Snapshot; only Snapshot
	// touches it.
	last struct{ requests, errors, held, bytes int64 }
}

// shard is one slice of a population's latency histograms; a request picks
// a shard at random so that concurrent clients rarely wait for each other.
type shard struct {
	mu     sync.Mutex                   // guards second and kinds
	second *hdr.Histogram               // the current second, all kinds
	kinds  [sim.NumKinds]*hdr.Histogram // the whole run, by kind; nil until used
	_      [64]byte                     // keeps shards on separate cache lines
}

type viewerAgg struct {
	n, started, stallFree, stalls, switches, errors, refused int64
	stallTime                                                time.Duration
	bitrateSum                                               float64
	bitrateN                                                 int64
	startup, queued                                          *hdr.Histogram
}

// NewRecorder returns a recorder for npops populations.
func NewRecorder(npops int) *Recorder {
	r := &Recorder{seed: maphash.MakeSeed(), segs: map[uint64]struct{}{}, scratch: newHist()}
	nshards := min(runtime.GOMAXPROCS(0), maxShards)
	for range npops {
		p := &popRec{shards: make([]shard, nshards)}
		for i := range p.shards {
			p.shards[i].second = newHist()
		}
		p.viewers.startup, p.viewers.queued = newHist(), newHist()
		r.pops = append(r.pops, p)
	}
	return r
}

func newHist() *hdr.Histogram { return hdr.New(1, histMax, histDigits) }

// micros clamps d into the histograms' range.
func micros(d time.Duration) int64 {
	return min(max(d.Microseconds(), 1), histMax)
}

// Request implements sim.Recorder. It allocates nothing once the
// population's histogram for kind exists.
func (r *Recorder) Request(pop int, kind sim.Kind, intended time.Time, latency time.Duration, status int, bytes int64, err error) {
	p := r.pops[pop]
	p.requests.Add(1)
	p.bytes.Add(bytes)
	if errors.Is(err, sim.ErrChallenged) {
		p.challenged.Add(1)
		return
	}
	p.noteTimes(intended.Add(latency).UnixNano(), status)
	if status == 0 && errors.Is(err, context.Canceled) {
		// Cut short by the end of the run (or of the client's life), not
		// refused by the target: not an error, and no latency to speak of.
		p.canceled.Add(1)
		return
	}
	switch {
	case errors.Is(err, sim.ErrHeld):
		p.held.Add(1) // a waiting room's answer the viewer waits on: not a failure
	case err != nil || status >= 500:
		p.errors.Add(1)
	}
	if status < 0 || status >= maxStatus {
		status = maxStatus - 1
	}
	p.status[status].Add(1)
	if kind == sim.KindSegment && status >= 200 && status < 300 {
		p.segmentsOK.Add(1)
	}
	if kind >= sim.NumKinds {
		kind = sim.KindOther
	}
	v := micros(latency)
	s := &p.shards[rand.Uint32()%uint32(len(p.shards))]
	s.mu.Lock()
	_ = s.second.RecordValue(v) // in range: micros clamps
	if s.kinds[kind] == nil {
		s.kinds[kind] = newHist()
	}
	_ = s.kinds[kind].RecordValue(v)
	s.mu.Unlock()
}

// State implements sim.Recorder.
func (r *Recorder) State(pop int, from, to sim.State) {
	p := r.pops[pop]
	if from != sim.StateNone && from < sim.NumStates {
		p.states[from].Add(-1)
	}
	if to != sim.StateNone && to < sim.NumStates {
		p.states[to].Add(1)
	}
}

// Viewer implements sim.Recorder.
func (r *Recorder) Viewer(pop int, v sim.ViewerSummary) {
	if v.Admission != nil {
		r.adm.add(v)
	}
	p := r.pops[pop]
	p.viewerMu.Lock()
	defer p.viewerMu.Unlock()
	a := &p.viewers
	a.n++
	if v.Started {
		a.started++
		_ = a.startup.RecordValue(micros(v.Startup))
		if v.Stalls == 0 {
			a.stallFree++
		}
	}
	_ = a.queued.RecordValue(micros(v.Queued))
	a.stalls += int64(v.Stalls)
	a.stallTime += v.StallTime
	a.switches += int64(v.Switches)
	a.errors += int64(v.Errors)
	if v.Refused {
		a.refused++
	}
	if v.Bitrate > 0 {
		a.bitrateSum += float64(v.Bitrate)
		a.bitrateN++
	}
}

// Conn implements sim.Recorder.
func (r *Recorder) Conn(pop int, delta int) {
	p := r.pops[pop]
	n := p.conns.Add(int64(delta))
	for {
		m := p.maxConns.Load()
		if n <= m || p.maxConns.CompareAndSwap(m, n) {
			return
		}
	}
}

// Segment implements sim.SegmentCounter. Beyond maxSegments distinct URIs
// new ones are not remembered, so the count is a lower bound.
func (r *Recorder) Segment(_ int, uri string) {
	h := maphash.String(r.seed, uri)
	r.segMu.Lock()
	if len(r.segs) < maxSegments {
		r.segs[h] = struct{}{}
	}
	r.segMu.Unlock()
}

// Admission returns the report's admission section (nil when no viewer
// reported admission), and counts each second's admissions into series,
// the run's seconds from start. Call it once the clients are done.
func (r *Recorder) Admission(start time.Time, series []report.Second) *report.Admission {
	return r.adm.account(start, series)
}

// DistinctSegments returns how many distinct segment URIs viewers reported.
func (r *Recorder) DistinctSegments() int64 {
	r.segMu.Lock()
	defer r.segMu.Unlock()
	return int64(len(r.segs))
}

// SegmentsServed returns the successful segment responses to every
// population.
func (r *Recorder) SegmentsServed() int64 {
	var n int64
	for _, p := range r.pops {
		n += p.segmentsOK.Load()
	}
	return n
}

// client counts an arriving client of pop that was started.
func (r *Recorder) client(pop int) { r.pops[pop].clients.Add(1) }

// skip counts an arrival of pop that max_clients kept from starting.
func (r *Recorder) skip(pop int) { r.pops[pop].skipped.Add(1) }

// Clients returns how many clients of pop were started.
func (r *Recorder) Clients(pop int) int64 { return r.pops[pop].clients.Load() }

// Snapshot returns the populations' activity since the previous call
// (counters, latency percentiles of that second) and their gauges now. It
// must not be called concurrently with itself or Pops.
func (r *Recorder) Snapshot() []report.PopSecond {
	out := make([]report.PopSecond, len(r.pops))
	for i, p := range r.pops {
		r.scratch.Reset()
		for j := range p.shards {
			s := &p.shards[j]
			s.mu.Lock()
			r.scratch.Merge(s.second)
			s.second.Reset()
			s.mu.Unlock()
		}
		req, errs, held, b := p.requests.Load(), p.errors.Load(), p.held.Load(), p.bytes.Load()
		out[i] = report.PopSecond{
			Requests: req - p.last.requests,
			Errors:   errs - p.last.errors,
			Held:     held - p.last.held,
			Bytes:    b - p.last.bytes,
			P50:      ms(r.scratch.ValueAtQuantile(50)),
			P99:      ms(r.scratch.ValueAtQuantile(99)),
			Starting: p.states[sim.StateStarting].Load(),
			Queued:   p.states[sim.StateQueued].Load(),
			Playing:  p.states[sim.StatePlaying].Load(),
			Stalled:  p.states[sim.StateStalled].Load(),
			Conns:    p.conns.Load(),
		}
		p.last.requests, p.last.errors, p.last.held, p.last.bytes = req, errs, held, b
	}
	return out
}

func ms(us int64) float64 { return float64(us) / 1000 }

// noteTimes keeps when the population was first answered and first
// refused: the target's time to mitigate, seen from the attacker.
func (p *popRec) noteTimes(at int64, status int) {
	if p.firstReq.Load() == 0 {
		p.firstReq.CompareAndSwap(0, at)
	}
	if refusal(status) && p.firstRefused.Load() == 0 {
		p.firstRefused.CompareAndSwap(0, at)
	}
}

// refusal reports whether status is a defence's answer: forbidden, too
// many requests, or shed.
func refusal(status int) bool {
	return status == 403 || status == 429 || status == 503
}
