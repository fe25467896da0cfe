// Package detect watches every finished request and, once a second, decides
// what the traffic is: normal, a legitimate flash crowd, an attack (and of
// which kind), an origin failure or a saturated edge. For attacks it decides
// mitigations and applies them through a mitigation.Actuator, renewing them
// while the attack goes on and lifting them once it stops.
//
// The hot path (Observe) only accumulates: per-second counters, bounded
// heavy-hitter tables (space saving) per source, prefix, fingerprint and
// path, HyperLogLog sketches of distinct sources and query strings, and a
// count-min sketch of player-like requests. Everything a client can grow is
// bounded, so a botnet of millions of addresses costs no more memory than a
// few. The owned loop (Run, or Tick in tests) closes each second, compares it
// with a baseline learned from legitimate seconds, and judges.
package detect
