package edge

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/rempart/rempart/internal/admission"
	"github.com/rempart/rempart/internal/cache"
	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/filter/challenge"
	"github.com/rempart/rempart/internal/guard"
	"github.com/rempart/rempart/internal/identity"
	"github.com/rempart/rempart/internal/origin"
	"github.com/rempart/rempart/internal/route"
	"github.com/rempart/rempart/internal/telemetry"
)

// pipeline is one immutable build of the request's way for a configuration.
// Reload builds a new one and swaps it in; requests in flight finish on the
// one they started with.
type pipeline struct {
	handler  http.Handler
	router   *route.Router
	resolver *identity.Resolver
	pools    []*origin.Pool // one per site, in config order
	sites    []string
	// rooms are the admission rooms of the sites with admission on and
	// the configuration to give each once the pipeline is swapped in.
	rooms []roomConfig
}

// roomConfig is a room and the configuration it takes with a pipeline.
type roomConfig struct {
	room *admission.Room
	cfg  config.Admission
}

// buildPipeline assembles the request's way, in order:
//
//	client ─▶ guard.Hygiene ─▶ identity.Stage ─▶ route.Router ─▶ per site:
//	          stream.Stage ─▶ filter.Stage ─▶ challenge.Stage ─▶
//	          admission.Stage ─▶ cache.Handler ─▶ origin.Pool
//
// Connection caps, PROXY protocol and the minimum read rate act below HTTP,
// on the listener and the writer (see Edge.listen). The filter runs after
// routing because its limits are per route class; routing costs tens of
// nanoseconds, so refusals stay cheap. The stream stage comes first: it
// judges media requests by the playlists the cache has learned (cheap, no
// origin), and what it stamps on the record lets the shield spare what
// costs nothing. The edge's own pages (/_rempart/)
// are answered before routing.
func buildPipeline(cfg *config.Config, store *cache.Store, def *defences, own http.Handler, logger *slog.Logger) (*pipeline, error) {
	p := &pipeline{}
	sites := make([]route.Site, 0, len(cfg.Sites))
	for i := range cfg.Sites {
		s := &cfg.Sites[i]
		rs, pool, err := p.buildSite(s, cfg.Shield.Mode, store, def, logger)
		if err != nil {
			p.close()
			return nil, err
		}
		p.pools = append(p.pools, pool)
		p.sites = append(p.sites, s.Name)
		sites = append(sites, rs)
	}
	rt, err := route.New(sites)
	if err != nil {
		p.close()
		return nil, fmt.Errorf("build router: %w", err)
	}
	p.router = rt
	p.resolver = identity.NewResolver(trustedProxies(cfg))
	p.handler = p.front(own)
	return p, nil
}

// front is the part of the way shared by every site: hygiene, identity,
// the edge's own pages, then routing.
func (p *pipeline) front(own http.Handler) http.Handler {
	var next http.Handler = p.router
	if own != nil {
		next = ownPages(own, next)
	}
	return &guard.Hygiene{Next: &identity.Stage{Resolver: p.resolver, Next: next}}
}

// buildSite wires one site: the shield's stages, admission, its cache
// stage, its origin pool.
func (p *pipeline) buildSite(s *config.Site, mode string, store *cache.Store, def *defences, logger *slog.Logger) (route.Site, *origin.Pool, error) {
	log := logger.With("site", s.Name)
	pool, err := origin.NewPool(s.Name, s.Origins, s.Upstream, log)
	if err != nil {
		return route.Site{}, nil, fmt.Errorf("site %s: %w", s.Name, err)
	}
	rules, err := routeRules(s.Routes)
	if err != nil {
		pool.Close()
		return route.Site{}, nil, fmt.Errorf("site %s: %w", s.Name, err)
	}
	ch := cache.NewHandler(store, s.Name, s.Policies(), pool, s.Upstream.FetchTimeout, log)
	ch.NoUnknownGate = s.UnknownGate != nil && !*s.UnknownGate
	ch.ShareHeaders(s.SharedHeaders)
	var h http.Handler = ch
	if h, err = p.admit(s, def.rooms, h); err != nil {
		pool.Close()
		return route.Site{}, nil, fmt.Errorf("site %s: %w", s.Name, err)
	}
	next := def.streams.stage(s, mode, ch, def.siteStages(mode, h))
	return route.Site{Name: s.Name, Hosts: s.Hosts, Rules: rules, Next: next}, pool, nil
}

// admit puts the site's admission stage in front of next when admission
// is on; the room's new configuration applies when the pipeline does.
func (p *pipeline) admit(s *config.Site, rooms *admission.Rooms, next http.Handler) (http.Handler, error) {
	a := s.Admission
	if a.Mode != "on" {
		return next, nil
	}
	room, err := rooms.Prepare(s.Name, a)
	if err != nil {
		return nil, fmt.Errorf("admission: %w", err)
	}
	tokens, err := admission.NewTokens(a.Tokens)
	if err != nil {
		return nil, fmt.Errorf("admission: %w", err)
	}
	p.rooms = append(p.rooms, roomConfig{room, a})
	st := &admission.Stage{Room: room, GatePages: a.GatePages, Tokens: tokens, Next: next}
	for _, g := range a.Gate {
		if c, err := telemetry.ParseClass(g); err == nil {
			st.Gate[c] = true
		}
	}
	return st, nil
}

// applyRooms gives each admission room the configuration of this
// pipeline, once it is the one in force.
func (p *pipeline) applyRooms(logger *slog.Logger) {
	for _, rc := range p.rooms {
		if err := rc.room.Reload(rc.cfg); err != nil {
			logger.Error("admission reload failed; the room keeps its configuration", "site", rc.room.Site(), "err", err)
		}
	}
}

func routeRules(rs []config.Route) ([]route.Rule, error) {
	out := make([]route.Rule, 0, len(rs))
	var errs []error
	for i, r := range rs {
		c, err := telemetry.ParseClass(r.Class)
		if err != nil {
			errs = append(errs, fmt.Errorf("routes[%d].class: %w", i, err))
			continue
		}
		out = append(out, route.Rule{Prefix: r.Prefix, Suffix: r.Suffix, Class: c})
	}
	return out, errors.Join(errs...)
}

// ownPages sends /_rempart/ to the edge's own handler, everything else on.
// The challenge's paths and the waiting room's status go on too: the
// site's stages answer them.
func ownPages(own, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, ownPrefix) && !strings.HasPrefix(r.URL.Path, challenge.Prefix) &&
			r.URL.Path != admission.StatusPath {
			own.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// close releases the origin pools' idle connections.
func (p *pipeline) close() {
	for _, pool := range p.pools {
		pool.Close()
	}
}
