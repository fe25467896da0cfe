// Package guard holds the connection- and request-level defences in front of
// the pipeline: request hygiene (no proxying of absolute URIs or CONNECT),
// and the server limits (timeouts, header bytes) applied to every listener.
package guard
