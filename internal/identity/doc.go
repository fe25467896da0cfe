// Package identity says who a client is: its address (the TCP peer, the
// PROXY protocol source, or the right-most untrusted X-Forwarded-For hop
// behind trusted proxies), the prefix it belongs to, a fingerprint of its
// request headers and a JA4-style fingerprint of its TLS ClientHello.
//
// The Stage writes all of it into the request record once, so later stages
// (filter, admission) and the consumers (detector, evidence) read the same
// answer instead of each parsing headers again.
package identity
