// Package origin talks to a site's origins: pooled connections, connect and
// response timeouts, bounded concurrency per origin, retries for idempotent
// requests only, and a circuit breaker per origin so a dead origin is not
// hammered. Only configured origins are ever contacted.
package origin
