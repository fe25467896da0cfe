// Package guard holds the connection- and request-level defences in front of
// the pipeline: request hygiene (no proxying of absolute URIs or CONNECT),
// and the server limits (timeouts, header bytes) applied to every listener;
// below HTTP, the listener wrappers that cap connections per client and in
// total (LimitListener), read the PROXY protocol header of trusted proxies
// (ProxyListener) and refuse requests framed two ways (FramingListener);
// and MinRate, which cuts slow readers.
package guard
