package stream

import (
	"net/http"
	"strings"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
)

// stageName is what the stage records when it answers.
const stageName = "stream"

// ReasonUnlisted is the refusal reason (and shield action) of a segment no
// playlist lists, in a place where the edge knows every segment.
const ReasonUnlisted = "unlisted"

// Stage judges each media request by the site's streams, before the
// shield: it stamps the record (Known, Viewer, Offbeat) for the stages
// after it and the detector, and answers 404 itself for an unlisted
// segment, which no player ever asks for.
type Stage struct {
	Catalog *Catalog
	Viewers *Viewers // nil: nobody is judged a viewer
	// Refuse is false when the site passes unlisted segments on
	// (sites[].streams.unlisted: pass): they are only marked.
	Refuse bool
	// Shadow marks what would be refused without refusing it
	// (shield.mode: shadow).
	Shadow bool
	// Pass lists path prefixes never judged (on-demand trees beside a
	// live one, say).
	Pass []string
	// Prefetch, when set, is asked for the playlists the catalog says are
	// stale where unlisted or unjudged segments are asked (Catalog.Stale).
	Prefetch func(path string)
	Now      func() time.Time
	Next     http.Handler
}

// ServeHTTP judges r, then refuses it or passes it on.
func (s *Stage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := telemetry.RecordOf(w)
	switch rec.Class {
	case telemetry.ClassSegment, telemetry.ClassMedia, telemetry.ClassMaster:
	default:
		s.Next.ServeHTTP(w, r)
		return
	}
	path := r.URL.Path
	for _, p := range s.Pass {
		if strings.HasPrefix(path, p) {
			s.Next.ServeHTTP(w, r)
			return
		}
	}
	j := s.Catalog.Lookup(path)
	known := j.Known
	rec.Known = known
	s.Catalog.Judged[known].Add(1)
	if s.Viewers != nil {
		cls := rec.Class
		if j.Master {
			cls = telemetry.ClassMaster // routed as a playlist, known as a master
		}
		rec.Viewer, rec.Offbeat = s.Viewers.Look(rec.Client, cls, rec.Repeats, j.Target, s.Now())
	}
	if rec.Class == telemetry.ClassSegment && s.Prefetch != nil && (known == telemetry.KnownUnlisted || j.Waiting) {
		for _, p := range s.Catalog.Stale(dir(path)) {
			s.Prefetch(p)
		}
	}
	if known != telemetry.KnownUnlisted || rec.Class != telemetry.ClassSegment {
		s.Next.ServeHTTP(w, r)
		return
	}
	switch {
	case !s.Refuse:
	case s.Shadow:
		rec.Action = "shadow:" + ReasonUnlisted
	default:
		rec.Action = ReasonUnlisted
		s.Catalog.Refused.Add(1)
		rec.Decide(stageName, telemetry.OutcomeRefused, ReasonUnlisted)
		h := w.Header()
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNotFound)
		if r.Method != http.MethodHead {
			_, _ = w.Write(notListed)
		}
		return
	}
	s.Next.ServeHTTP(w, r)
}

var notListed = []byte("not found: no playlist of this stream lists this segment\n")
