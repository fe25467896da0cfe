package admission

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/rempart/rempart/internal/admission/rewrite"
	"github.com/rempart/rempart/internal/telemetry"
)

// maxRewrite bounds a playlist body the stage holds to rewrite; a bigger
// one goes out as it is.
const maxRewrite = 1 << 20

// pass serves a request of an admitted session: as is, or with its master
// playlist cut to the renditions its degradation level keeps, a dropped
// rendition's media playlist redirected to a kept one, and, for a player
// that carries its session in the query, every URI of a playlist carrying
// it too.
func (s *Stage) pass(w http.ResponseWriter, r *http.Request, se *session, token string) {
	class := telemetry.RecordOf(w).Class
	k := s.Room.egress.drops(se.started)
	if class == telemetry.ClassMedia && k > 0 {
		if target, ok := s.Room.ladders.substitute(r.URL.Path, k); ok {
			s.redirect(w, target, token)
			return
		}
	}
	// The router calls every playlist a media playlist until the cache has
	// seen its body: any playlist not known as a media playlist may be a
	// master, so it goes through rewrite (which reads the refined class)
	// whenever the site may degrade. Its ladder is then known before
	// degradation starts, and players that loaded the master in calm are
	// redirected off a dropped rendition too.
	playlist := class == telemetry.ClassMaster || class == telemetry.ClassMedia
	if playlist && (token != "" || (k > 0 || s.Room.mayDegrade()) && !s.Room.ladders.isMedia(r.URL.Path)) {
		s.rewrite(w, r, k, token)
		return
	}
	s.Next.ServeHTTP(w, r)
}

// redirect sends a player to the kept rendition's media playlist.
func (s *Stage) redirect(w http.ResponseWriter, target, token string) {
	if token != "" {
		target = rewrite.SetParam(target, SessionQuery, token)
	}
	rec := telemetry.RecordOf(w)
	rec.Decide(StageName, telemetry.OutcomePass, "degraded")
	rec.Action = "degraded"
	h := w.Header()
	h.Set("Location", target)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}

// rewrite serves r into a buffer, then rewrites the playlist and sends it.
func (s *Stage) rewrite(w http.ResponseWriter, r *http.Request, k int, token string) {
	cw := &capture{w: w, status: http.StatusOK}
	s.Next.ServeHTTP(cw, r)
	if cw.passthrough {
		return
	}
	body := cw.buf.Bytes()
	if cw.status == http.StatusOK {
		if telemetry.RecordOf(w).Class == telemetry.ClassMaster {
			if l := s.Room.ladders.of(r.URL.Path, body); l != nil && k > 0 {
				body = l.Drop(k)
				telemetry.RecordOf(w).Action = "degraded"
			}
		}
		if token != "" {
			body = rewrite.AddQuery(body, SessionQuery, token)
		}
	}
	h := w.Header()
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if token != "" || k > 0 {
		h.Set("Cache-Control", "private, no-store") // per session now
		h.Del("ETag")
		h.Del("Last-Modified")
	}
	w.WriteHeader(cw.status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// capture holds a response's status and body (headers go to the real
// writer's map) so that the stage can rewrite it; past maxRewrite it gives
// up and passes the rest through. It carries the request's record.
type capture struct {
	w           http.ResponseWriter
	status      int
	wrote       bool
	passthrough bool
	buf         bytes.Buffer
}

var _ telemetry.RecordCarrier = (*capture)(nil)

func (c *capture) Header() http.Header         { return c.w.Header() }
func (c *capture) Record() *telemetry.Record   { return telemetry.RecordOf(c.w) }
func (c *capture) Unwrap() http.ResponseWriter { return c.w }

func (c *capture) WriteHeader(code int) {
	if !c.wrote {
		c.status, c.wrote = code, true
	}
}

func (c *capture) Write(p []byte) (int, error) {
	c.WriteHeader(http.StatusOK)
	if c.passthrough {
		return c.w.Write(p)
	}
	if c.buf.Len()+len(p) > maxRewrite {
		c.passthrough = true
		c.w.WriteHeader(c.status)
		if _, err := c.w.Write(c.buf.Bytes()); err != nil {
			return 0, err
		}
		return c.w.Write(p)
	}
	return c.buf.Write(p)
}

// Flush is a no-op while the body is held; the rewritten body is written
// at once.
func (c *capture) Flush() {}
