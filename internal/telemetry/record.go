package telemetry

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// Record is the account of one request. The edge creates it when the request
// arrives, each stage fills in what it learned or decided, and the edge hands
// it to the consumers (Stats, and later the detector and evidence) when the
// response is done. A Record is reused after that: consumers must copy what
// they keep.
type Record struct {
	Start  time.Time  // when the edge began handling the request
	Client netip.Addr // the client: the TCP peer, or what a trusted proxy said
	// Prefix is the client's aggregated network (IPv4 /24, IPv6 /64), set
	// by the identity stage.
	Prefix netip.Prefix
	// Fingerprint identifies the client software from its request (header
	// names, User-Agent family); 0 when not computed.
	Fingerprint uint64
	// TLSFingerprint identifies the client's TLS stack from its ClientHello
	// (JA4-style, hashed); 0 for cleartext connections.
	TLSFingerprint uint64
	// Repeats is how many times the client's connection asked for this
	// URL (path, query, Range) in the current second, this request
	// included; 0 when unknown, as behind a trusted proxy whose connection
	// carries many clients. A player asks for a playlist once per target
	// duration and for each segment once.
	Repeats int
	// Action is what the shield did beyond the outcome, e.g. "blocked",
	// "rate_limited", "challenged", "shadow:<reason>"; "" when nothing.
	Action string
	// StripQuery asks the cache to drop every query parameter from the key
	// and the origin request (a cache-busting mitigation is in force).
	StripQuery bool
	Site       string // configured site name, "" if none matched
	Class      Class  // route class, refined by the cache once the origin answered
	// ClassFixed is true when a configured route rule chose Class: later
	// stages must not refine it.
	ClassFixed bool
	Outcome    Outcome // how the request ended
	Stage      string  // the stage that decided the outcome ("guard", "route", "cache"...)
	Reason     string  // short machine-readable cause for refusals and errors
	Status     int     // status code sent to the client
	Bytes      int64   // body bytes written to the client
	// Known is what the stream stage knows of the object named: listed
	// by a playlist, unlisted where every object is known, or unjudged.
	Known Known
	// Offbeat is true when the client asks this listed object out of a
	// player's pace (a playlist many times per target duration, a
	// segment again and again, playlists without ever a segment).
	Offbeat bool
	// Viewer is true when the client behaves as a player: it loaded a
	// media playlist, then segments it lists (see stream.Viewers).
	Viewer bool
}

// Decide records which stage settled the request and how. Later calls
// overwrite earlier ones: the last stage to decide is the one that answered.
func (r *Record) Decide(stage string, o Outcome, reason string) {
	r.Stage, r.Outcome, r.Reason = stage, o, reason
}

// Writer is the http.ResponseWriter the edge hands to the pipeline. It counts
// status and bytes into its Record and carries the Record down the stages
// without allocating a new request context. Stages reach the record with
// RecordOf.
type Writer struct {
	http.ResponseWriter
	Rec         Record
	wroteHeader bool
}

var writerPool = sync.Pool{New: func() any { return new(Writer) }}

// NewWriter returns a pooled Writer around w, its record started at now.
// Release it with Release once the handler has returned.
func NewWriter(w http.ResponseWriter, now time.Time) *Writer {
	tw := writerPool.Get().(*Writer)
	tw.ResponseWriter = w
	tw.Rec = Record{Start: now}
	tw.wroteHeader = false
	return tw
}

// Release returns tw to the pool. tw must not be used afterwards.
func (tw *Writer) Release() {
	tw.ResponseWriter = nil
	writerPool.Put(tw)
}

// WriteHeader records the status and passes it on.
func (tw *Writer) WriteHeader(code int) {
	if !tw.wroteHeader && code >= 200 {
		tw.wroteHeader = true
		tw.Rec.Status = code
	}
	tw.ResponseWriter.WriteHeader(code)
}

// Write counts body bytes and passes them on.
func (tw *Writer) Write(p []byte) (int, error) {
	if !tw.wroteHeader {
		tw.wroteHeader = true
		tw.Rec.Status = http.StatusOK
	}
	n, err := tw.ResponseWriter.Write(p)
	tw.Rec.Bytes += int64(n)
	return n, err
}

// WriteString counts and passes on s without converting it to a byte
// slice when the underlying writer can take strings (net/http's can).
func (tw *Writer) WriteString(s string) (int, error) {
	if !tw.wroteHeader {
		tw.wroteHeader = true
		tw.Rec.Status = http.StatusOK
	}
	n, err := io.WriteString(tw.ResponseWriter, s)
	tw.Rec.Bytes += int64(n)
	return n, err
}

// Flush sends buffered data to the client, so bytes streamed from an origin
// fetch reach waiters as they arrive.
func (tw *Writer) Flush() {
	if f, ok := tw.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack lets protocol upgrades through when the underlying writer allows it.
func (tw *Writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := tw.ResponseWriter.(http.Hijacker); ok {
		return h.Hijack()
	}
	return nil, nil, errors.New("telemetry: hijack not supported")
}

// Unwrap gives http.ResponseController access to the underlying writer
// (deadlines, full-duplex).
func (tw *Writer) Unwrap() http.ResponseWriter { return tw.ResponseWriter }

// RecordOf returns the request record carried by w (a Writer, or a
// RecordCarrier wrapping one), or a throwaway record when w carries none
// (unit tests that call a stage alone).
func RecordOf(w http.ResponseWriter) *Record {
	if tw, ok := w.(*Writer); ok {
		return &tw.Rec
	}
	if rc, ok := w.(RecordCarrier); ok {
		return rc.Record()
	}
	return new(Record)
}

// RecordCarrier is a ResponseWriter that a stage puts around the Writer
// (to rewrite a body, say) and that still carries the request's record.
type RecordCarrier interface {
	http.ResponseWriter
	Record() *Record
}
