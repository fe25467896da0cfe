package edge

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
	"github.com/rempart/rempart/web"
)

// panel serves the demo page and its live data under /_rempart/.
type panel struct {
	e     *Edge
	files http.Handler

	mu   sync.Mutex // protects prev and last
	prev sample     // counters at the start of the current rate window
	last panelData  // the figures computed over the last complete window
}

// sample is a reading of the counters the panel turns into rates.
type sample struct {
	at                   time.Time
	all, cached, fetched uint64
	origin               uint64
}

// panelData is the JSON answer of /_rempart/stats.json.
type panelData struct {
	HitRatio      float64 `json:"hit_ratio"`
	OriginRPS     float64 `json:"origin_rps"`
	RequestsRPS   float64 `json:"requests_rps"`
	Viewers       int     `json:"viewers"`
	CacheBytes    int64   `json:"cache_bytes"`
	CacheObjects  int64   `json:"cache_objects"`
	UptimeSeconds float64 `json:"uptime_seconds"`
}

// panelWindow is how often the rates are recomputed.
const panelWindow = time.Second

func newPanel(e *Edge) *panel {
	if !web.HLSBuilt() {
		e.logger.Warn("hls.js is not embedded: the demo page cannot play; run `make web` and rebuild")
	}
	p := &panel{e: e, files: http.StripPrefix(ownPrefix, http.FileServerFS(web.Assets()))}
	p.prev = p.read(e.now())
	return p
}

// ServeHTTP answers the edge's own pages.
func (p *panel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	telemetry.RecordOf(w).Decide("panel", telemetry.OutcomeHit, "")
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; media-src 'self' blob:; worker-src 'self' blob:; img-src 'self' data:")
	h.Set("X-Content-Type-Options", "nosniff")
	if r.URL.Path == ownPrefix+"stats.json" {
		p.serveStats(w)
		return
	}
	p.files.ServeHTTP(w, r)
}

func (p *panel) serveStats(w http.ResponseWriter) {
	d := p.figures(p.e.now())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(d)
}

// figures returns the panel data, recomputing the rates once per window.
func (p *panel) figures(now time.Time) panelData {
	p.mu.Lock()
	defer p.mu.Unlock()
	if dt := now.Sub(p.prev.at); dt >= panelWindow {
		cur := p.read(now)
		p.last = rates(p.prev, cur, dt.Seconds())
		p.prev = cur
	}
	d := p.last
	d.Viewers, _ = p.e.stats.Viewers.Count(now)
	st := p.e.store.Stats()
	d.CacheBytes, d.CacheObjects = int64(st.Bytes()), int64(st.Objects())
	d.UptimeSeconds = now.Sub(p.e.started).Seconds()
	return d
}

func rates(a, b sample, secs float64) panelData {
	var d panelData
	if served := (b.cached - a.cached) + (b.fetched - a.fetched); served > 0 {
		d.HitRatio = float64(b.cached-a.cached) / float64(served)
	}
	d.RequestsRPS = float64(b.all-a.all) / secs
	d.OriginRPS = float64(b.origin-a.origin) / secs
	return d
}

func (p *panel) read(now time.Time) sample {
	s := sample{at: now}
	s.all, s.cached, s.fetched = p.e.stats.Totals()
	for _, pool := range p.e.pipe.Load().pools {
		st := pool.Stats()
		s.origin += st.Status2xx.Load() + st.Status3xx.Load() + st.Status4xx.Load() + st.Status5xx.Load() + st.Errors.Load()
	}
	return s
}
