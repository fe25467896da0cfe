// Package route is the route stage: it picks the site by Host and classifies
// the request (master or media playlist, segment, on-demand file, API) from
// its path, with configured rules first.
package route
