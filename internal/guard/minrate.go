package guard

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
)

// MinRate cuts responses read slower than rate bytes per second over
// window (slow-read defence: a client that reads one byte a second would
// otherwise hold a connection, a goroutine and a buffer for hours). Before
// each write of n bytes it moves the connection's write deadline to
// now + window + n/rate, so a reader that keeps pace never meets it, and
// one that stalls for window is cut when the deadline passes; cuts are
// counted in stats.SlowReadCut (stats may be nil). Large writes go out in
// pieces of about one second of rate, so one big Write cannot buy a long
// deadline. rate ≤ 0 or window ≤ 0: next is returned unchanged.
//
// The moving deadline replaces Limits.WriteTimeout for the responses it
// covers: a long download at a healthy rate is not cut. When the handler
// returns, the deadline is set to now + window for the final flush.
//
// The writer MinRate hands on keeps http.Flusher, http.Hijacker and
// Unwrap (for http.ResponseController). Inside the pipeline, where w is
// the edge's *telemetry.Writer, MinRate wraps the writer underneath it
// instead, so that later stages still reach the request record.
func MinRate(next http.Handler, rate int64, window time.Duration, stats *ConnStats) http.Handler {
	if rate <= 0 || window <= 0 {
		return next
	}
	if stats == nil {
		stats = new(ConnStats)
	}
	return &minRate{next: next, rate: rate, window: window, chunk: int(min(max(rate, 512), 1<<20)), stats: stats}
}

type minRate struct {
	next   http.Handler
	rate   int64
	window time.Duration
	chunk  int // largest piece written under one deadline
	stats  *ConnStats
}

var minRateWriters = sync.Pool{New: func() any { return new(minRateWriter) }}

// ServeHTTP serves the request through a rate-watching writer.
func (m *minRate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	mw := minRateWriters.Get().(*minRateWriter)
	defer minRateWriters.Put(mw)
	tw, inPipeline := w.(*telemetry.Writer)
	if inPipeline {
		w = tw.ResponseWriter
	}
	*mw = minRateWriter{ResponseWriter: w, rc: *http.NewResponseController(w), m: m}
	mw.off = mw.rc.SetWriteDeadline(time.Now().Add(m.window)) != nil
	if inPipeline {
		tw.ResponseWriter = mw
		defer func() { tw.ResponseWriter = w }()
		m.next.ServeHTTP(tw, r)
	} else {
		m.next.ServeHTTP(mw, r)
	}
	if !mw.off && !mw.hijacked {
		_ = mw.rc.SetWriteDeadline(time.Now().Add(m.window))
	}
	*mw = minRateWriter{}
}

// minRateWriter moves the write deadline ahead of each piece written.
type minRateWriter struct {
	http.ResponseWriter
	rc       http.ResponseController // of the writer underneath
	m        *minRate
	deadline time.Time
	off      bool // the writer has no deadlines (a test recorder): pass through
	cut      bool // counted already
	hijacked bool
}

// extend gives the next n bytes window plus their time at the floor rate.
func (w *minRateWriter) extend(n int) {
	w.deadline = time.Now().Add(w.m.window + time.Duration(int64(n)*int64(time.Second)/w.m.rate))
	_ = w.rc.SetWriteDeadline(w.deadline)
}

// failed counts a write error past the deadline as a slow-read cut.
func (w *minRateWriter) failed() {
	if !w.cut && !time.Now().Before(w.deadline) {
		w.cut = true
		w.m.stats.SlowReadCut.Add(1)
	}
}

// Write writes p in pieces, each under its own deadline.
func (w *minRateWriter) Write(p []byte) (int, error) {
	if w.off {
		return w.ResponseWriter.Write(p)
	}
	written := 0
	for len(p) > 0 {
		n := min(len(p), w.m.chunk)
		w.extend(n)
		k, err := w.ResponseWriter.Write(p[:n])
		written += k
		if err != nil {
			w.failed()
			return written, err
		}
		p = p[n:]
	}
	return written, nil
}

// WriteString is Write without converting s to a byte slice.
func (w *minRateWriter) WriteString(s string) (int, error) {
	if w.off {
		return io.WriteString(w.ResponseWriter, s)
	}
	written := 0
	for len(s) > 0 {
		n := min(len(s), w.m.chunk)
		w.extend(n)
		k, err := io.WriteString(w.ResponseWriter, s[:n])
		written += k
		if err != nil {
			w.failed()
			return written, err
		}
		s = s[n:]
	}
	return written, nil
}

// Flush sends buffered data, under a fresh window.
func (w *minRateWriter) Flush() {
	if !w.off {
		w.extend(0)
	}
	if err := w.rc.Flush(); err != nil && !w.off {
		w.failed()
	}
}

// Hijack hands the connection over without a deadline left on it.
func (w *minRateWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := w.rc.Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.hijacked = true
	if err := c.SetWriteDeadline(time.Time{}); err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("clear write deadline of hijacked conn: %w", err)
	}
	return c, brw, nil
}

// Unwrap gives http.ResponseController the writer underneath.
func (w *minRateWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
