// Package edge assembles the pipeline a request walks through and owns the
// listeners, the admin listener, reload and shutdown.
package edge
