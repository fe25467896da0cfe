package admission

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
)

// CapacityRequest is the body of PUT /api/admission: the fields to change,
// the others kept.
type CapacityRequest struct {
	MaxSessions *int     `json:"max_sessions"`
	MaxEgress   *float64 `json:"max_egress"`
	AdmitRate   *float64 `json:"admit_rate"`
	AdmitBurst  *int     `json:"admit_burst"`
}

// maxAdminBody bounds the body of an admin request.
const maxAdminBody = 4 << 10

// AdminHandler serves the operator API of admission on the admin listener:
//
//	GET /api/admission              every room's Snapshot, JSON list
//	PUT /api/admission?site=NAME    change capacity: CapacityRequest, strict
//	                                JSON; answers the Capacity that applied
//
// Errors are JSON {"error": "..."}; cross-origin browser requests that
// change state are refused.
func (rs *Rooms) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/admission", rs.serveList)
	mux.HandleFunc("PUT /api/admission", rs.servePut)
	mux.HandleFunc("/api/admission", func(w http.ResponseWriter, r *http.Request) {
		adminError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s /api/admission: use GET to read, PUT ?site=NAME to change capacity", r.Method))
	})
	return http.NewCrossOriginProtection().Handler(mux)
}

func (rs *Rooms) serveList(w http.ResponseWriter, _ *http.Request) {
	now := rs.now()
	out := []Snapshot{}
	for _, r := range rs.All() {
		out = append(out, r.Snapshot(now))
	}
	adminJSON(w, http.StatusOK, out)
}

func (rs *Rooms) servePut(w http.ResponseWriter, r *http.Request) {
	site := r.URL.Query().Get("site")
	room := rs.Get(site)
	if room == nil {
		adminError(w, http.StatusNotFound, fmt.Sprintf("site %q has no admission room: name a site with admission.mode on (GET /api/admission lists them)", site))
		return
	}
	req, err := decodeCapacity(r.Body)
	if err != nil {
		adminError(w, http.StatusBadRequest, err.Error())
		return
	}
	c := room.Capacity()
	if req.MaxSessions != nil {
		c.MaxSessions = *req.MaxSessions
	}
	if req.MaxEgress != nil {
		c.MaxEgress = *req.MaxEgress
	}
	if req.AdmitRate != nil {
		c.AdmitRate = *req.AdmitRate
		if req.AdmitBurst == nil {
			c.AdmitBurst = 0 // follows the new rate
		}
	}
	if req.AdmitBurst != nil {
		c.AdmitBurst = *req.AdmitBurst
	}
	adminJSON(w, http.StatusOK, room.SetCapacity(c))
}

// decodeCapacity reads a CapacityRequest strictly: unknown fields, trailing
// data, values out of range are errors that say which and why.
func decodeCapacity(body io.Reader) (CapacityRequest, error) {
	var req CapacityRequest
	b, err := io.ReadAll(io.LimitReader(body, maxAdminBody+1))
	if err != nil {
		return req, fmt.Errorf("read body: %w", err)
	}
	if len(b) > maxAdminBody {
		return req, fmt.Errorf("body over %d bytes", maxAdminBody)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, fmt.Errorf(`body: %w (want JSON such as {"max_sessions": 20000, "max_egress": 40000, "admit_rate": 500})`, err)
	}
	if dec.More() {
		return req, errors.New("body: data after the JSON object")
	}
	return req, req.check()
}

func (req *CapacityRequest) check() error {
	var errs []error
	if v := req.MaxSessions; v != nil && (*v < 0 || *v > 100000000) {
		errs = append(errs, fmt.Errorf("max_sessions %d: want 0 (no cap) to 100000000", *v))
	}
	if v := req.AdmitBurst; v != nil && (*v < 0 || *v > 1000000) {
		errs = append(errs, fmt.Errorf("admit_burst %d: want 0 (follow admit_rate) to 1000000", *v))
	}
	for _, f := range []struct {
		name string
		v    *float64
		hi   float64
	}{{"max_egress", req.MaxEgress, 1e7}, {"admit_rate", req.AdmitRate, 1e6}} {
		if f.v != nil && (math.IsNaN(*f.v) || *f.v < 0 || *f.v > f.hi) {
			errs = append(errs, fmt.Errorf("%s %g: want 0 (no limit) to %g", f.name, *f.v, f.hi))
		}
	}
	return errors.Join(errs...)
}

func adminJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func adminError(w http.ResponseWriter, code int, msg string) {
	adminJSON(w, code, map[string]string{"error": msg})
}
