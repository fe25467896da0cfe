// Package web embeds the pages and assets the edge serves under /_rempart/:
// the demo player page and its front-end packages (installed from the npm
// registry at build time, never committed).
package web
