// Command scoreboard turns the JSON reports that bench/siege-compare.sh
// collects (DIR/<proxy>/<scenario>.json, schema rempart-siege/1) into the
// markdown scoreboard: one row per scenario and proxy.
//
//	go run ./bench/scoreboard -dir bench/out/siege \
//	    -proxies "rempart nginx varnish" -scenarios "kickoff get-flood"
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

func main() {
	dir := flag.String("dir", "bench/out/siege", "directory holding <proxy>/<scenario>.json")
	proxies := flag.String("proxies", "rempart nginx varnish", "proxies, in column order")
	scenarios := flag.String("scenarios", "", "scenarios, in row order (required)")
	baseline := flag.String("baseline", "kickoff", "scenario whose origin requests are the no-attack baseline")
	flag.Parse()
	b := Board{Proxies: strings.Fields(*proxies), Scenarios: strings.Fields(*scenarios), Baseline: *baseline}
	if len(b.Scenarios) == 0 || len(b.Proxies) == 0 {
		fmt.Fprintln(os.Stderr, "scoreboard: -scenarios and -proxies must name at least one each")
		os.Exit(2)
	}
	if err := b.Load(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "scoreboard:", err)
		os.Exit(1)
	}
	b.Write(os.Stdout)
}
