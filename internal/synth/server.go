package synth

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// Stats counts the requests a Server answered, by kind. Tests and the demo
// read them; fields are updated atomically. Requests for MetricsPath are
// not counted.
type Stats struct {
	// Received counts every request that reached the origin, before its
	// capacity (Options.MaxConcurrent) decided whether to serve it: what a
	// load test calls "origin requests".
	Received atomic.Int64
	// Overloaded counts the requests refused with 503 because every slot
	// was busy and the queue full.
	Overloaded    atomic.Int64
	Master        atomic.Int64 // master playlists served
	Media         atomic.Int64 // media playlists served
	Segments      atomic.Int64 // live segments served
	SegmentsBuilt atomic.Int64 // live segments generated (cache misses)
	Tracks        atomic.Int64 // on-demand track responses (any status)
	API           atomic.Int64 // API and health responses (any status)
	NotFound      atomic.Int64 // 404 answers, segments outside the window included
}

// Server is the synthetic origin: an http.Handler serving the live channel,
// the on-demand tracks and the API.
type Server struct {
	opts    Options // defaults filled
	live    *live
	tracks  []*track
	catalog catalog
	mux     *http.ServeMux
	metrics http.Handler
	gate    *gate // nil: no limit on the requests served at once
	stats   Stats
}

var _ http.Handler = (*Server)(nil)

// New validates opts and builds a Server from the embedded loop.
func New(opts Options) (*Server, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	l, err := loadLoop(assetFS)
	if err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	l.renditions = l.renditions[:min(opts.Renditions, len(l.renditions))]
	s := &Server{opts: opts, live: newLive(l, opts), tracks: newTracks(), gate: newGate(opts)}
	s.catalog = newCatalog(l, s.tracks)
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("/live/master.m3u8", s.serveMaster)
	s.mux.HandleFunc("/live/{rendition}/{file}", s.serveLive)
	s.mux.HandleFunc("/ondemand/{file}", s.serveTrack)
	s.mux.HandleFunc("/api/catalog", s.serveCatalog)
	s.mux.HandleFunc("/api/login", s.serveLogin)
	s.mux.HandleFunc("/api/search", s.serveSearch)
	s.mux.HandleFunc("/healthz", s.serveHealth)
	s.metrics = newMetricsHandler(&s.stats)
	s.mux.HandleFunc("/", s.notFound)
	return s, nil
}

// Stats returns the server's live counters.
func (s *Server) Stats() *Stats { return &s.stats }

// Options returns the options in force, defaults filled in.
func (s *Server) Options() Options { return s.opts }

// ServeHTTP counts the request, takes one of the origin's slots (or
// refuses it when the origin is full), waits the configured Latency, then
// answers it. The metrics page is outside the origin's capacity: it is
// neither counted, delayed nor refused, so that a load test can read the
// counters of an origin it saturates.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == MetricsPath {
		s.metrics.ServeHTTP(w, r)
		return
	}
	s.stats.Received.Add(1)
	if s.gate != nil {
		if err := s.gate.enter(r.Context()); err != nil {
			if errors.Is(err, errOverloaded) {
				s.stats.Overloaded.Add(1)
				refuseOverloaded(w)
			}
			return
		}
		defer s.gate.leave()
	}
	if d := s.opts.Latency; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

// allowMethods answers 405 with Allow unless r's method is one of methods
// (GET implies HEAD).
func allowMethods(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m || (m == http.MethodGet && r.Method == http.MethodHead) {
			return true
		}
	}
	allow := strings.Join(methods, ", ")
	if strings.Contains(allow, http.MethodGet) {
		allow += ", " + http.MethodHead
	}
	w.Header().Set("Allow", allow)
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

// notFound answers 404 with a short max-age, so caches retry soon.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.stats.NotFound.Add(1)
	w.Header().Set("Cache-Control", "max-age=1")
	http.Error(w, "not found", http.StatusNotFound)
}

func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	s.stats.API.Add(1)
	if !allowMethods(w, r, http.MethodGet) {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}
