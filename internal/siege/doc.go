// Package siege is the load and attack simulator behind `rempart siege`: it
// replays match night (a crowd of real players arriving at kickoff, plus the
// attacks that took platforms down) against a target over HTTP, like any
// client would, and reports what the viewers lived through: startup time,
// stalls, queue time, errors.
//
// Sub-packages: sim (the contract between the runner and the client
// models), scenario (the YAML schema and the built-in scenarios), viewer
// (legitimate clients), attack (attacker models), link (the shared
// bottleneck the viewers download through), report (the JSON and HTML
// reports). siege never imports the edge.
package siege
