package web

import (
	"embed"
	"io/fs"
)

// The static directory is embedded whole. Its vendor/ subdirectory holds
// hls.js, copied from node_modules by `make web`; when it was never built the
// embed still succeeds and the page explains what is missing.
//
//go:embed static
var static embed.FS

// HLSPath is where hls.js lies inside [Assets], and so, under the /_rempart/
// mount, where the browser fetches it.
const HLSPath = "vendor/hls.min.js"

// Assets returns the embedded pages and assets with the static directory's
// contents at the root: demo.html, demo.js, demo.css and, once built,
// vendor/hls.min.js. The edge serves them under /_rempart/.
func Assets() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		// fs.Sub fails only for an invalid name, and "static" is a constant.
		panic("web: " + err.Error())
	}
	return sub
}

// HLSBuilt reports whether hls.js was embedded at build time. Without it the
// demo page can play only where the browser has native HLS, and says so; the
// edge may log the hint to run `make web`.
func HLSBuilt() bool {
	_, err := fs.Stat(Assets(), HLSPath)
	return err == nil
}
