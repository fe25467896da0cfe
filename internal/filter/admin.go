package filter

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/rempart/rempart/internal/mitigation"
)

// Bounds of admin API requests.
const (
	maxBlockBody  = 64 << 10 // POST /api/blocks
	maxImportBody = 32 << 20 // POST /api/blocks/import: some 1.5 million lines
)

// Defaults of operator actions through the admin API.
const (
	operatorSource = "operator"
	operatorReason = "blocked by operator"
)

// BlockInfo is one block as the admin API lists it.
type BlockInfo struct {
	ID     string    `json:"id"`
	Prefix string    `json:"prefix"`
	Reason string    `json:"reason"`
	Source string    `json:"source"` // "file", "operator", "detector"
	Since  time.Time `json:"since"`
	Until  time.Time `json:"until,omitzero"` // absent: never expires (block files)
	Hits   uint64    `json:"hits"`           // requests refused
}

func blockInfo(m mitigation.Mitigation) BlockInfo {
	return BlockInfo{ID: m.ID, Prefix: m.Prefix.String(), Reason: m.Reason, Source: m.Source,
		Since: m.Since, Until: m.Until, Hits: m.Hits}
}

// BlockRequest is the body of POST /api/blocks.
type BlockRequest struct {
	Prefix string `json:"prefix"`           // CIDR or address
	TTL    string `json:"ttl,omitempty"`    // Go duration; "" means 1h
	Reason string `json:"reason,omitempty"` // "" means "blocked by operator"
}

// ImportResult is the answer of POST /api/blocks/import.
type ImportResult struct {
	Imported int       `json:"imported"`
	Until    time.Time `json:"until"`
}

// apiError is an admin API error: its status and a message that says what
// was wrong, where, and how to fix it.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// AdminHandler serves the operator API on the admin listener; the edge
// mounts it as is (its patterns include /api/):
//
//	GET    /api/blocks                     every block, JSON list of BlockInfo
//	POST   /api/blocks                     block: BlockRequest, strict JSON
//	DELETE /api/blocks?prefix=P            lift the block of exactly P
//	POST   /api/blocks/import?ttl=&reason= block a list (block-file syntax)
//	GET    /api/mitigations                Active, as JSON
//
// Errors are JSON {"error": "..."}. Cross-origin browser requests that
// change state are refused (http.CrossOriginProtection): a web page must
// not be able to block prefixes through an operator's browser.
func (s *Shield) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/blocks", s.serveBlocks)
	mux.HandleFunc("POST /api/blocks", s.servePostBlock)
	mux.HandleFunc("DELETE /api/blocks", s.serveDeleteBlock)
	mux.HandleFunc("POST /api/blocks/import", s.serveImport)
	mux.HandleFunc("GET /api/mitigations", s.serveMitigations)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{http.StatusNotFound, fmt.Sprintf("no endpoint %s %s: the API has GET, POST and DELETE /api/blocks, POST /api/blocks/import and GET /api/mitigations", r.Method, r.URL.Path)})
	})
	return http.NewCrossOriginProtection().Handler(mux)
}

// serveBlocks streams the list, so that a million blocks are not held in
// memory twice.
func (s *Shield) serveBlocks(w http.ResponseWriter, _ *http.Request) {
	setJSONHeaders(w)
	bw := bufio.NewWriterSize(w, 32<<10)
	enc := json.NewEncoder(bw)
	bw.WriteString("[")
	first := true
	s.eachBlock(func(m mitigation.Mitigation) bool {
		if !first {
			bw.WriteString(",")
		}
		first = false
		return enc.Encode(blockInfo(m)) == nil
	})
	bw.WriteString("]\n")
	bw.Flush()
}

func (s *Shield) servePostBlock(w http.ResponseWriter, r *http.Request) {
	var req BlockRequest
	if err := decodeStrict(w, r, &req); err != nil {
		writeError(w, err)
		return
	}
	if req.Prefix == "" {
		writeError(w, badRequest(`prefix: required: send {"prefix": "203.0.113.0/24"} (an address blocks just itself)`))
		return
	}
	p, err := ParsePrefix(req.Prefix)
	if err != nil {
		writeError(w, badRequest("prefix: %v", err))
		return
	}
	ttl, aerr := parseTTL("ttl", req.TTL)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	m, err := s.Block(p, ttl, reasonOr(strings.TrimSpace(req.Reason), operatorReason), operatorSource)
	if err != nil {
		writeError(w, applyError(err))
		return
	}
	writeJSON(w, http.StatusOK, blockInfo(m))
}

func (s *Shield) serveDeleteBlock(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("prefix")
	if q == "" {
		writeError(w, badRequest("query parameter prefix: required, as in DELETE /api/blocks?prefix=203.0.113.0/24"))
		return
	}
	p, err := ParsePrefix(q)
	if err != nil {
		writeError(w, badRequest("query parameter prefix: %v", err))
		return
	}
	if s.Unblock(p) {
		writeJSON(w, http.StatusOK, map[string]string{"unblocked": p.String()})
		return
	}
	if src := s.fileSource(p); src != "" {
		writeError(w, &apiError{http.StatusConflict, fmt.Sprintf("%s is blocked by a block file (%s): remove it there and reload", p, src)})
		return
	}
	writeError(w, &apiError{http.StatusNotFound, fmt.Sprintf("%s is not blocked: unblock takes the exact prefix that GET /api/blocks lists", p)})
}

func (s *Shield) serveImport(w http.ResponseWriter, r *http.Request) {
	ttl, aerr := parseTTL("query parameter ttl", r.URL.Query().Get("ttl"))
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	reason := reasonOr(strings.TrimSpace(cleanText(r.URL.Query().Get("reason"))), operatorReason)
	body := http.MaxBytesReader(w, r.Body, maxImportBody)
	list, err := ParseList(body, "body", int(s.maxBlocks.Load()))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, &apiError{http.StatusRequestEntityTooLarge, fmt.Sprintf("body: larger than %d bytes: split it", tooBig.Limit)})
			return
		}
		writeError(w, badRequest("%v", err))
		return
	}
	until := s.now().Add(clampTTL(ttl)).UTC()
	n, err := s.importBlocks(list, until, reason, operatorSource)
	if err != nil {
		writeError(w, applyError(err))
		return
	}
	writeJSON(w, http.StatusOK, ImportResult{Imported: n, Until: until})
}

func (s *Shield) serveMitigations(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Active(s.now()))
}

// parseTTL parses a time to live; "" is DefaultBlockTTL. Too long is
// clamped later, to MaxTTL.
func parseTTL(where, s string) (time.Duration, *apiError) {
	if s == "" {
		return DefaultBlockTTL, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, badRequest("%s %q: want a positive duration such as 30m, 1h or 24h (at most %s)", where, s, MaxTTL)
	}
	return d, nil
}

// decodeStrict decodes one JSON object of at most maxBlockBody bytes into
// v, refusing unknown fields and trailing data.
func decodeStrict(w http.ResponseWriter, r *http.Request, v any) *apiError {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBlockBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bodyError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if err != nil {
			return bodyError(err)
		}
		return badRequest("body: data after the JSON object: send exactly one object")
	}
	return nil
}

// bodyError says what is wrong with a request body, and where.
func bodyError(err error) *apiError {
	var (
		tooBig *http.MaxBytesError
		syn    *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooBig):
		return &apiError{http.StatusRequestEntityTooLarge, fmt.Sprintf("body: larger than %d bytes: split it", tooBig.Limit)}
	case errors.As(err, &syn):
		return badRequest("body: invalid JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		return badRequest("body: field %q: want a JSON %s", typ.Field, typ.Type)
	case errors.Is(err, io.EOF):
		return badRequest(`body: empty: send {"prefix": "203.0.113.0/24", "ttl": "1h", "reason": "..."}`)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("body: JSON cut short")
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return badRequest("body: unknown field %s: the fields are prefix, ttl and reason", f)
	}
	return badRequest("body: %v", err)
}

// applyError maps errors of Block and import to statuses.
func applyError(err error) *apiError {
	if errors.Is(err, ErrBlocklistFull) {
		return &apiError{http.StatusInsufficientStorage, err.Error()}
	}
	return badRequest("%v", err)
}

func setJSONHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	setJSONHeaders(w)
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, map[string]string{"error": e.msg})
}
