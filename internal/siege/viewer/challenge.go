package viewer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strconv"

	"github.com/rempart/rempart/internal/filter/challenge"
	"github.com/rempart/rempart/internal/siege/sim"
)

// Challenge protocol (docs/challenge.md) as a browser's page speaks it. In
// attack mode an edge answers a player's request without clearance with
// 403 {"challenge": "/_rempart/challenge/?return=..."}. A page opens that
// challenge page, its worker finds a counter whose SHA-256 with the
// challenge starts with difficulty zero bits, posts it to the verify
// endpoint and gets the clearance cookie; the player then asks again. A
// viewer does the same with the same work, so the time it costs shows in
// its startup; challenge_max_bits is the hardest puzzle its device takes
// on (0: a bare player or app that cannot solve one).
const (
	defaultChallengeBits = 22 // the edge's default max_difficulty
	maxChallengeBits     = 26 // ~64 M hashes: beyond any device's patience
	maxChallengePage     = 64 << 10
	// maxSolves bounds the challenges one request meets in a row: a
	// clearance that does not hold (a proxy dropping cookies) must not
	// loop.
	maxSolves = 2
)

// ErrChallengeTooHard is returned when the target asks for more work than
// the viewer's challenge_max_bits.
var ErrChallengeTooHard = errors.New("viewer: challenge harder than the device takes on")

var (
	challengeField    = regexp.MustCompile(`name="challenge" value="([^"]+)"`)
	difficultyAttr    = regexp.MustCompile(`data-difficulty="([0-9]{1,2})"`)
	errNoChallengeArg = errors.New("viewer: challenge page without a challenge or difficulty")
)

// challengeRef returns the challenge page a 403 answer points to.
func challengeRef(res response) (string, bool) {
	if res.status != http.StatusForbidden || len(res.body) == 0 || res.body[0] != '{' {
		return "", false
	}
	var a struct {
		Challenge string `json:"challenge"`
	}
	if json.Unmarshal(res.body, &a) != nil || a.Challenge == "" {
		return "", false
	}
	return a.Challenge, true
}

// challenged reports whether res is a challenge this client goes on to
// solve.
func (cl *client) challenged(res response) bool {
	if cl.solveBits <= 0 {
		return false
	}
	_, ok := challengeRef(res)
	return ok
}

// solve answers the challenge res points to: it opens the page, does the
// work and posts the solution, which sets the clearance cookie in the jar.
func (cl *client) solve(ctx context.Context, res response) error {
	ref, _ := challengeRef(res)
	u, err := cl.resolve(cl.env.Target, ref)
	if err != nil {
		return fmt.Errorf("challenge page: %w", err)
	}
	page, err := cl.do(ctx, &request{kind: sim.KindOther, url: u, intended: cl.now(), keep: maxChallengePage})
	if err != nil {
		return fmt.Errorf("challenge page: %w", err)
	}
	if page.status != http.StatusOK {
		return &statusError{status: page.status, reason: "challenge page"}
	}
	ch, bits, err := readChallenge(page.body)
	if err != nil {
		return err
	}
	if bits > cl.solveBits {
		return fmt.Errorf("%w: %d bits asked, %d taken on", ErrChallengeTooHard, bits, cl.solveBits)
	}
	counter := challenge.Solve(ch, bits)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	body, _ := json.Marshal(map[string]string{"challenge": ch, "counter": counter, "return": "/"})
	vu, err := cl.resolve(cl.env.Target, challenge.VerifyPath)
	if err != nil {
		return err
	}
	ans, err := cl.do(ctx, &request{kind: sim.KindOther, method: http.MethodPost, url: vu, body: body, intended: cl.now()})
	if err != nil {
		return fmt.Errorf("challenge verify: %w", err)
	}
	if ans.status != http.StatusSeeOther || !cl.jar.has(challenge.CookieName) {
		return &statusError{status: ans.status, reason: "challenge verify"}
	}
	return nil
}

// readChallenge finds the signed challenge and its difficulty in the page.
func readChallenge(page []byte) (string, int, error) {
	c := challengeField.FindSubmatch(page)
	d := difficultyAttr.FindSubmatch(page)
	if c == nil || d == nil {
		return "", 0, errNoChallengeArg
	}
	bits, err := strconv.Atoi(string(d[1]))
	if err != nil || bits < 1 || bits > 32 {
		return "", 0, errNoChallengeArg
	}
	return html.UnescapeString(string(c[1])), bits, nil
}
