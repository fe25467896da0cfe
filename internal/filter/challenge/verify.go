package challenge

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strings"

	"github.com/rempart/rempart/internal/telemetry"
)

// maxSubmission bounds a solution's body.
const maxSubmission = 8 << 10

// submission is a solution as POSTed by the page (a form) or a client
// (JSON).
type submission struct {
	Challenge string  `json:"challenge"`
	Counter   counter `json:"counter"`
	Return    string  `json:"return"`
	json      bool
}

// counter is a solution's counter, sent as a JSON number or a string of
// digits; check validates it.
type counter string

// UnmarshalJSON takes a string's content or a number's text as is.
func (c *counter) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*c = counter(s)
		return nil
	}
	*c = counter(b)
	return nil
}

var _ http.Handler = (*Challenger)(nil)

// ServeHTTP answers the paths under Prefix: the standalone page (GET
// Prefix?return=/path), the verify endpoint and the page's assets.
func (c *Challenger) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	switch name {
	case "":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			refuseMethod(w, "GET, HEAD")
			return
		}
		c.servePage(w, r, safeReturn(r.URL.Query().Get("return")), http.StatusOK)
	case "verify":
		c.serveVerify(w, r)
	default:
		c.serveAsset(w, r, name)
	}
}

func refuseMethod(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	telemetry.Refuse(w, StageName, telemetry.OutcomeRefused, "method", http.StatusMethodNotAllowed, "method not allowed", 0)
}

// serveVerify checks a solution; a good one earns the clearance cookie and
// a 303 to where the visitor was going.
func (c *Challenger) serveVerify(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		refuseMethod(w, "POST")
		return
	}
	sub, err := readSubmission(w, r)
	if err != nil {
		c.stats.Failed.Add(1)
		telemetry.Refuse(w, StageName, telemetry.OutcomeRefused, "malformed", http.StatusBadRequest, "bad solution", 0)
		return
	}
	ret := safeReturn(sub.Return)
	client := clientOf(r, clientFromRecord(w))
	ua := r.Header.Get("User-Agent")
	now := c.now()
	sol, err := check(&c.keys, sub.Challenge, string(sub.Counter), client, ua, now)
	if err == nil && !c.replay.redeem(sol.nonce, now) {
		err = ErrReplayed
	}
	if err != nil {
		c.refuseSolution(w, r, sub, ret, err)
		return
	}
	c.stats.Solved.Add(1)
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: signClearance(&c.keys, client, ua, now.Add(c.cfg.ClearanceTTL)),
		Path: "/", MaxAge: int(c.cfg.ClearanceTTL.Seconds()),
		Secure: r.TLS != nil, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	telemetry.RecordOf(w).Decide(StageName, telemetry.OutcomeHit, "solved")
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, ret, http.StatusSeeOther)
}

// refuseSolution counts and answers a refused solution: a form goes back to
// where it came from, which challenges again with a fresh puzzle (a
// challenge gone stale on a slow phone, or a client that changed network,
// recovers by itself); a JSON client gets 403 and the reason.
func (c *Challenger) refuseSolution(w http.ResponseWriter, r *http.Request, sub submission, ret string, err error) {
	reason := solutionReason(err)
	if errors.Is(err, ErrReplayed) {
		c.stats.Replayed.Add(1)
	} else {
		c.stats.Failed.Add(1)
	}
	if sub.json {
		c.refuseJSON(w, reason, `{"error":"`+reason+`","challenge":"`+pageURL(ret)+`"}`)
		return
	}
	telemetry.RecordOf(w).Decide(StageName, telemetry.OutcomeRefused, reason)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, ret, http.StatusSeeOther)
}

// solutionReason names err for telemetry and JSON clients.
func solutionReason(err error) string {
	switch {
	case errors.Is(err, ErrForged):
		return "forged"
	case errors.Is(err, ErrStale):
		return "stale"
	case errors.Is(err, ErrBinding):
		return "binding"
	case errors.Is(err, ErrNotEnough):
		return "not_enough_work"
	case errors.Is(err, ErrReplayed):
		return "replayed"
	}
	return "malformed"
}

// readSubmission decodes a form (application/x-www-form-urlencoded) or
// JSON body of at most maxSubmission bytes.
func readSubmission(w http.ResponseWriter, r *http.Request) (submission, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxSubmission)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var sub submission
	switch ct {
	case "application/json":
		sub.json = true
		dec := json.NewDecoder(r.Body)
		if err := dec.Decode(&sub); err != nil {
			return sub, err
		}
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return sub, err
		}
		sub.Challenge = r.PostForm.Get("challenge")
		sub.Counter = counter(strings.TrimSpace(r.PostForm.Get("counter")))
		sub.Return = r.PostForm.Get("return")
	default:
		return sub, errors.New("unsupported content type")
	}
	return sub, nil
}
