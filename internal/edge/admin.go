package edge

import (
	"encoding/json"
	"net/http"
	"net/http/pprof"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rempart/rempart/internal/config"
)

// adminHandler serves the operator endpoints. It listens on loopback by
// default: pprof and metrics are not for the public.
func (e *Edge) adminHandler(cfg *config.Config) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", e.readyz)
	// Blocks and mitigations: GET/POST/DELETE /api/blocks, /api/mitigations.
	mux.Handle("/api/", e.def.shield.AdminHandler())
	mux.HandleFunc("GET /api/detect", e.detectStatus)
	mux.HandleFunc("GET /api/evidence/head", e.evidenceHead)
	// Admission: GET /api/admission, PUT /api/admission?site= (capacity).
	mux.Handle("/api/admission", e.def.rooms.AdminHandler())
	if cfg.Admin.Pprof == nil || *cfg.Admin.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// detectStatus shows the detector's current verdict, the attacks behind it
// and the mitigations it holds, with their reasons and expiry.
func (e *Edge) detectStatus(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if e.def.detector == nil {
		w.Write([]byte(`{"verdict":"off"}` + "\n"))
		return
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(e.def.detector.Status())
}

// evidenceHead publishes the evidence chain's head, for `rempart evidence
// verify --head` and for monitoring to copy away from the edge: only a
// head kept elsewhere shows that the log's tail was cut.
func (e *Edge) evidenceHead(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	h, ok := e.def.evidence.Head()
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"error":"no evidence head: shield.evidence.dir is not set, or the head could not be written"}` + "\n"))
		return
	}
	json.NewEncoder(w).Encode(h)
}

// readyz answers 200 while the edge takes requests and 503 while it starts
// or drains, so a load balancer stops sending before shutdown closes
// connections.
func (e *Edge) readyz(w http.ResponseWriter, _ *http.Request) {
	if !e.ready.Load() {
		http.Error(w, "draining", http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ready\n"))
}
