package edge

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/rempart/rempart/internal/cache"
	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/guard"
	"github.com/rempart/rempart/internal/origin"
	"github.com/rempart/rempart/internal/route"
	"github.com/rempart/rempart/internal/telemetry"
)

// pipeline is one immutable build of the request's way for a configuration.
// Reload builds a new one and swaps it in; requests in flight finish on the
// one they started with.
type pipeline struct {
	handler http.Handler
	router  *route.Router
	pools   []*origin.Pool // one per site, in config order
	sites   []string
}

// buildPipeline assembles the request's way, in order:
//
//	client ─▶ guard.Hygiene ─▶ route.Router ─▶ cache.Handler ─▶ origin.Pool
//
// (identify, filter and admit slot in between guard and route as they land).
// The edge's own pages (/_rempart/) are answered before routing.
func buildPipeline(cfg *config.Config, store *cache.Store, own http.Handler, logger *slog.Logger) (*pipeline, error) {
	p := &pipeline{}
	sites := make([]route.Site, 0, len(cfg.Sites))
	for i := range cfg.Sites {
		s := &cfg.Sites[i]
		rs, pool, err := buildSite(s, store, logger)
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
	var next http.Handler = rt
	if own != nil {
		next = ownPages(own, rt)
	}
	p.handler = &guard.Hygiene{Next: next}
	return p, nil
}

// buildSite wires one site: its origin pool behind its cache stage.
func buildSite(s *config.Site, store *cache.Store, logger *slog.Logger) (route.Site, *origin.Pool, error) {
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
	h := cache.NewHandler(store, s.Name, s.Policies(), pool, s.Upstream.FetchTimeout, log)
	return route.Site{Name: s.Name, Hosts: s.Hosts, Rules: rules, Next: h}, pool, nil
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
func ownPages(own, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.URL.Path) >= len(ownPrefix) && r.URL.Path[:len(ownPrefix)] == ownPrefix {
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
