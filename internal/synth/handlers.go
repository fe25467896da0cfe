package synth

import (
	"bytes"
	"net/http"
	"strings"
	"time"
)

func (s *Server) serveMaster(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet) {
		return
	}
	s.stats.Master.Add(1)
	writePlaylist(w, s.live.master, "max-age=5")
}

// serveLive answers /live/<rendition>/index.m3u8 and /live/<rendition>/<seq>.ts.
func (s *Server) serveLive(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet) {
		return
	}
	ri, rend := s.live.loop.rendition(r.PathValue("rendition"))
	if rend == nil {
		s.notFound(w, r)
		return
	}
	now := s.live.now()
	file := r.PathValue("file")
	if file == "index.m3u8" {
		s.stats.Media.Add(1)
		writePlaylist(w, s.live.mediaPlaylist(rend, now), s.live.playlistMaxAge())
		return
	}
	seq, ok := parseSeq(file)
	if !ok || !s.live.servable(seq, now) {
		s.notFound(w, r)
		return
	}
	data, cached := s.live.segment(ri, seq)
	if !cached {
		s.stats.SegmentsBuilt.Add(1)
	}
	s.stats.Segments.Add(1)
	h := w.Header()
	h.Set("Content-Type", "video/mp2t")
	h.Set("Cache-Control", "max-age=3600")
	h.Set("ETag", `"`+s.live.tag+"-"+rend.name+"-"+file+`"`)
	http.ServeContent(w, r, "", s.live.segmentTime(seq), bytes.NewReader(data))
}

// serveTrack answers /ondemand/<id>.wav with Range and validator support.
func (s *Server) serveTrack(w http.ResponseWriter, r *http.Request) {
	s.stats.Tracks.Add(1)
	if !allowMethods(w, r, http.MethodGet) {
		return
	}
	id, ok := strings.CutSuffix(r.PathValue("file"), ".wav")
	var t *track
	for _, c := range s.tracks {
		if ok && c.ID == id {
			t = c
		}
	}
	if t == nil {
		s.notFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "audio/wav")
	h.Set("Cache-Control", "max-age=3600")
	h.Set("ETag", t.etag)
	http.ServeContent(w, r, "", tracksModified, bytes.NewReader(t.data))
}

func (s *Server) serveCatalog(w http.ResponseWriter, r *http.Request) {
	s.stats.API.Add(1)
	if !allowMethods(w, r, http.MethodGet) {
		return
	}
	writeJSON(w, http.StatusOK, "public, max-age=5", s.catalog)
}

func (s *Server) serveSearch(w http.ResponseWriter, r *http.Request) {
	s.stats.API.Add(1)
	if !allowMethods(w, r, http.MethodGet) {
		return
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	switch {
	case q == "":
		writeError(w, http.StatusBadRequest, "no-store", "missing query parameter q")
	case len(q) > maxQueryLength:
		writeError(w, http.StatusBadRequest, "no-store", "query parameter q is over 256 bytes")
	default:
		writeJSON(w, http.StatusOK, "no-store", map[string]any{"query": q, "results": s.catalog.search(q)})
	}
}

// serveLogin accepts any non-empty credentials and opens a session.
func (s *Server) serveLogin(w http.ResponseWriter, r *http.Request) {
	s.stats.API.Add(1)
	if !allowMethods(w, r, http.MethodPost) {
		return
	}
	const private = "private, no-store"
	c, status, err := decodeCredentials(w, r)
	if err != nil {
		writeError(w, status, private, err.Error())
		return
	}
	token := newToken()
	http.SetCookie(w, &http.Cookie{
		Name: "session", Value: token, Path: "/", MaxAge: int(sessionTTL / time.Second),
		HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	writeJSON(w, http.StatusOK, private, session{Token: token, Username: c.Username, ExpiresIn: int(sessionTTL / time.Second)})
}
