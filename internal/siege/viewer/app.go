package viewer

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rempart/rempart/internal/siege/sim"
)

// app is the "app-user" model: a person in the platform's app who logs in,
// then browses the catalog and searches at human pace. Its summary says
// Started once logged in, with the login time as Startup. Parameters:
//
//	login      login path, default /api/login (JSON {"username","password"})
//	username   user name prefix, default "viewer" (the client ID is appended)
//	password   default "siege"
//	catalog    catalog path, default /api/catalog
//	search     search path, default /api/search (?q=<word> appended)
//	words      search words, default a few the synthetic origin knows
//	think      think time between actions, "2s-8s" (default) or one duration
//	watch      how long the user stays; default until the phase ends
type app struct{}

var _ sim.Model = app{}

const loginAttempts = 3

var defaultWords = []string{"scale", "track", "live", "chords", "walk", "match", "goal", "replay"}

// Run logs in, then browses until ctx ends or the budget is spent.
func (app) Run(ctx context.Context, env *sim.Env, c sim.Client) {
	v := newViewer(env, c)
	if d := durationParam(v.p, "watch", 0); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	joined := c.Intended
	if joined.IsZero() {
		joined = v.now()
	}
	v.setBase(sim.StateStarting)
	var s sim.ViewerSummary
	if v.login(ctx, joined) {
		s.Started, s.Startup = true, v.now().Sub(joined)
		v.setBase(sim.StatePlaying)
		v.browse(ctx)
	}
	v.end(s)
}

// login posts the credentials, trying again after a think time.
func (v *viewer) login(ctx context.Context, intended time.Time) bool {
	u, err := targetURL(v.env, v.p.String("login", "/api/login"))
	if err != nil {
		v.errors++
		return false
	}
	body, _ := json.Marshal(map[string]string{
		"username": v.p.String("username", "viewer") + strconv.FormatInt(v.c.ID, 10),
		"password": v.p.String("password", "siege"),
	})
	for range loginAttempts {
		_, err := v.fetch(ctx, &request{kind: sim.KindAPI, method: "POST", url: u, body: body, intended: intended})
		if err == nil {
			return true
		}
		if v.stopped(ctx, err) || !v.sleep(ctx, v.think()) {
			return false
		}
		intended = v.now()
	}
	v.errors++
	return false
}

// browse alternates catalog views and searches, thinking in between.
func (v *viewer) browse(ctx context.Context) {
	words := v.p.Strings("words", defaultWords)
	catalog, cerr := targetURL(v.env, v.p.String("catalog", "/api/catalog"))
	search, serr := targetURL(v.env, v.p.String("search", "/api/search"))
	if cerr != nil || serr != nil || len(words) == 0 {
		v.errors++
		return
	}
	for v.sleep(ctx, v.think()) {
		u := catalog
		if rand.IntN(2) == 0 {
			q := *search
			q.RawQuery = "q=" + url.QueryEscape(words[rand.IntN(len(words))])
			u = &q
		}
		_, err := v.fetch(ctx, &request{kind: sim.KindAPI, url: u, intended: v.now()})
		if err != nil && ctx.Err() == nil && !errors.Is(err, ErrBudget) {
			v.errors++
		}
		if v.stopped(ctx, err) {
			return
		}
	}
}

// think returns a random think time within the "think" range.
func (v *viewer) think() time.Duration {
	lo, hi := 2*time.Second, 8*time.Second
	if s := v.p.String("think", ""); s != "" {
		a, b, isRange := strings.Cut(s, "-")
		if d, err := time.ParseDuration(a); err == nil {
			lo, hi = d, d
		}
		if d, err := time.ParseDuration(b); isRange && err == nil {
			hi = d
		}
	} else if d := durationParam(v.p, "think", 0); d > 0 {
		lo, hi = d, d
	}
	if hi <= lo {
		return lo
	}
	return lo + rand.N(hi-lo)
}
