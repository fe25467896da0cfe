package synth

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// API limits: bodies and queries a client may send.
const (
	maxBodyBytes   = 64 << 10
	maxQueryLength = 256
	sessionTTL     = time.Hour
)

// catalog is the /api/catalog document.
type catalog struct {
	Channels []channel `json:"channels"`
	Tracks   []*track  `json:"tracks"`
}

// channel describes the live channel and its renditions.
type channel struct {
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	URL        string   `json:"url"`
	Renditions []string `json:"renditions"`
}

// newCatalog lists what the origin serves.
func newCatalog(l *loop, tracks []*track) catalog {
	ch := channel{ID: "live", Title: "Synthetic Live Test Pattern", URL: "/live/master.m3u8"}
	for _, r := range l.renditions {
		ch.Renditions = append(ch.Renditions, r.name)
	}
	return catalog{Channels: []channel{ch}, Tracks: tracks}
}

// searchResult is one hit of /api/search.
type searchResult struct {
	Kind  string `json:"kind"` // "channel" or "track"
	ID    string `json:"id"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

// search returns the catalog entries whose title or id contains q, ignoring case.
func (c catalog) search(q string) []searchResult {
	q = strings.ToLower(q)
	out := []searchResult{}
	match := func(id, title string) bool {
		return strings.Contains(strings.ToLower(title), q) || strings.Contains(id, q)
	}
	for _, ch := range c.Channels {
		if match(ch.ID, ch.Title) {
			out = append(out, searchResult{"channel", ch.ID, ch.Title, ch.URL})
		}
	}
	for _, t := range c.Tracks {
		if match(t.ID, t.Title) {
			out = append(out, searchResult{"track", t.ID, t.Title, t.URL})
		}
	}
	return out
}

// credentials is the /api/login request body.
type credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// session is the /api/login answer.
type session struct {
	Token     string `json:"token"`
	Username  string `json:"username"`
	ExpiresIn int    `json:"expiresIn"` // seconds
}

// errEmptyCredentials is returned for a login without username or password.
var errEmptyCredentials = errors.New("username and password are required")

// decodeCredentials reads one JSON object of at most maxBodyBytes from r.
func decodeCredentials(w http.ResponseWriter, r *http.Request) (credentials, int, error) {
	var c credentials
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return c, http.StatusRequestEntityTooLarge, errors.New("request body over 64 KiB")
		}
		return c, http.StatusBadRequest, errors.New("request body is not a JSON credentials object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return c, http.StatusBadRequest, errors.New("request body has data after the JSON object")
	}
	if c.Username == "" || c.Password == "" {
		return c, http.StatusBadRequest, errEmptyCredentials
	}
	return c, http.StatusOK, nil
}

// newToken returns a random session token.
func newToken() string {
	b := make([]byte, 16)
	rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return hex.EncodeToString(b)
}

// writeJSON sends v as JSON with the given status and Cache-Control.
func writeJSON(w http.ResponseWriter, status int, cacheControl string, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", cacheControl)
	w.WriteHeader(status)
	w.Write(body)
}

// writeError sends a small JSON error.
func writeError(w http.ResponseWriter, status int, cacheControl, msg string) {
	writeJSON(w, status, cacheControl, map[string]string{"error": msg})
}
