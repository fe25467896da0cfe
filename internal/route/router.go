package route

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/rempart/rempart/internal/telemetry"
)

// Site is what the router needs of a configured site: its name, its
// classification rules and the handler (the site's cache stage) that serves
// its requests.
type Site struct {
	Name  string
	Hosts []string // lower-case Host values, with or without port; "*" is the default site
	Rules []Rule
	Next  http.Handler
}

// Router is the route stage: it picks the site by Host, classifies the
// request into the record, and hands it to the site's handler. Unknown Hosts
// get 421 unless a site answers "*": nothing is ever proxied to a host that
// is not configured.
type Router struct {
	hosts    map[string]*Site // protects nothing: built once, read-only
	fallback *Site
}

var _ http.Handler = (*Router)(nil)

// New builds a router over sites. Duplicate hosts are an error (config
// validation refuses them first; this guards direct callers).
func New(sites []Site) (*Router, error) {
	rt := &Router{hosts: make(map[string]*Site)}
	for i := range sites {
		s := &sites[i]
		if s.Next == nil {
			return nil, fmt.Errorf("route: site %q has no handler", s.Name)
		}
		for _, h := range s.Hosts {
			if err := rt.add(strings.ToLower(h), s); err != nil {
				return nil, err
			}
		}
	}
	return rt, nil
}

func (rt *Router) add(host string, s *Site) error {
	if host == "*" {
		if rt.fallback != nil {
			return fmt.Errorf("route: sites %q and %q both claim the default host \"*\"", rt.fallback.Name, s.Name)
		}
		rt.fallback = s
		return nil
	}
	if prev, ok := rt.hosts[host]; ok {
		return fmt.Errorf("route: sites %q and %q both claim host %q", prev.Name, s.Name, host)
	}
	rt.hosts[host] = s
	return nil
}

// Lookup returns the site for a Host header value, or nil.
func (rt *Router) Lookup(host string) *Site {
	if s, ok := rt.hosts[host]; ok {
		return s
	}
	lower := strings.ToLower(host)
	if s, ok := rt.hosts[lower]; ok {
		return s
	}
	if h, ok := stripPort(lower); ok {
		if s, ok := rt.hosts[h]; ok {
			return s
		}
	}
	return rt.fallback
}

// stripPort returns host without its ":port" and IPv6 brackets. Unlike
// net.SplitHostPort it allocates nothing, also for a Host without a port
// (the common case for refused unknown Hosts).
func stripPort(host string) (string, bool) {
	i := strings.LastIndexByte(host, ':')
	if i < 0 || strings.IndexByte(host[i:], ']') >= 0 {
		return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), strings.HasPrefix(host, "[")
	}
	return strings.TrimSuffix(strings.TrimPrefix(host[:i], "["), "]"), true
}

// ServeHTTP routes one request.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := telemetry.RecordOf(w)
	s := rt.Lookup(r.Host)
	if s == nil {
		telemetry.Refuse(w, "route", telemetry.OutcomeRefused, "unknown_host",
			http.StatusMisdirectedRequest, "unknown host: this edge serves no site for that Host", 0)
		return
	}
	rec.Site = s.Name
	rec.Class, rec.ClassFixed = classify(s.Rules, r.URL.Path)
	s.Next.ServeHTTP(w, r)
}
