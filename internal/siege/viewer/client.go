package viewer

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/rempart/rempart/internal/siege/sim"
)

// Kinds of client a viewer model plays (Params "client").
const (
	// clientBrowser is a player in a web page (the default): its page
	// solves the edge's proof-of-work challenge (up to
	// challenge_max_bits), speaks the waiting-room protocol and presents
	// the credentials the edge hands out.
	clientBrowser = "browser"
	// clientPlayer is a plain HTTP player, as a set-top box, a native
	// app's player or ffmpeg: no JavaScript, so no challenge solved; no
	// waiting room (a 503 or 429 is an error); no credentials beyond the
	// cookies the target sets, no platform token. A refusal stops its
	// picture: the player shows an error (ErrRefused).
	clientPlayer = "player"
)

// ErrRefused is returned when a plain player (client: player) is refused:
// its life ends, and if it had started, the refusal counts as a stall.
var ErrRefused = errors.New("viewer: plain player refused")

// checkClient checks the "client" parameter every viewer model takes.
func checkClient(p sim.Params) error {
	v, given := p["client"]
	if !given {
		return nil
	}
	c, ok := v.(string)
	if !ok || (c != clientBrowser && c != clientPlayer) {
		return fmt.Errorf("client %v: want %s (a web page's player, the default) or %s (a plain HTTP player: no challenge, no waiting room)",
			v, clientBrowser, clientPlayer)
	}
	if c == clientPlayer && p.Int("challenge_max_bits", 0) > 0 {
		return fmt.Errorf("client player with challenge_max_bits %d: a plain player solves no challenge; drop challenge_max_bits or use client browser",
			p.Int("challenge_max_bits", 0))
	}
	return nil
}

// CheckParams implements sim.ParamChecker.
func (live) CheckParams(p sim.Params) error { return checkClient(p) }

// CheckParams implements sim.ParamChecker.
func (ondemand) CheckParams(p sim.Params) error { return checkClient(p) }

// CheckParams implements sim.ParamChecker.
func (app) CheckParams(p sim.Params) error { return checkClient(p) }

var (
	_ sim.ParamChecker = live{}
	_ sim.ParamChecker = ondemand{}
	_ sim.ParamChecker = app{}
)

// refusal reports whether res, an answer to a request of kind, refuses
// the viewer: a 403 or 429 (the caller has ruled out holds and the
// challenges it solves), or a web page in place of media.
func refusal(kind sim.Kind, res response) bool {
	return res.status == http.StatusForbidden || res.status == http.StatusTooManyRequests || mediaPage(kind, res)
}

// mediaPage reports whether res is a web page (a challenge or interstitial
// page) served with a success status in answer to a request for a
// playlist or a segment: what no player can play.
func mediaPage(kind sim.Kind, res response) bool {
	if kind != sim.KindMaster && kind != sim.KindMedia && kind != sim.KindSegment {
		return false
	}
	return res.status >= 200 && res.status <= 299 &&
		strings.HasPrefix(strings.ToLower(res.header.Get("Content-Type")), "text/html")
}
