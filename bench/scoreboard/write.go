package main

import (
	"fmt"
	"io"
	"strings"
)

// header of the table; Legend explains every column.
const header = "| scenario | proxy | thresholds | stall-free viewers | refused viewers | startup p95 ms | segment p99 ms | " +
	"origin requests | origin req/segment | origin req/s (attack) | attack requests | excess origin req ÷ attack | attacker outcomes |\n" +
	"|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n"

// Legend defines the columns, printed under the table.
const Legend = `Columns: **thresholds** — the scenario's own thresholds (siege's exit
status), PASS or FAIL; **stall-free viewers** — viewers who started and never
stalled ÷ all viewers (the viewer count in brackets); **refused viewers** —
viewers refused at least once (a 403 or 429 they neither solved nor waited
on, or a web page in place of media); **startup p95** — join to
first picture; **segment p99** — the viewers' segment requests
(latency_by_kind_ms.segment); **origin requests** — what the origin counted
during the run (every request it received); **origin req/segment** — origin segment requests
÷ distinct segments the viewers received (1.00 = each segment fetched once);
**origin req/s (attack)** — the origin's mean request rate over the attack
phases (every phase but the first, "before"); **attack requests** — requests
(connections, for connection attacks) the attacker populations sent;
**excess origin req ÷ attack** — origin requests of the run minus those of the
same proxy's no-attack baseline run, ÷ attack requests: the share of the
attack that reached the origin (≈0 absorbed, 1 passed through; small negative
values are run-to-run noise in the viewers' own requests, shown as 0 %);
**attacker outcomes** — what the attackers got: 2xx, 429, 403, 503, error
(no response: refused, reset or closed), canceled (cut by the end of the
run), skipped (over max_clients), as % of their requests.
`

// Write prints the table, the failed thresholds and the legend.
func (b *Board) Write(w io.Writer) {
	io.WriteString(w, header)
	var failed []string
	for _, sc := range b.Scenarios {
		for _, px := range b.Proxies {
			r := b.Reports[sc][px]
			if r == nil {
				fmt.Fprintf(w, "| %s | %s | no report |  |  |  |  |  |  |  |  |  |  |\n", sc, px)
				continue
			}
			row := reduce(r)
			io.WriteString(w, b.line(sc, px, row))
			for _, f := range row.Failed {
				failed = append(failed, fmt.Sprintf("- %s / %s: %s", sc, px, f))
			}
		}
	}
	if len(failed) > 0 {
		fmt.Fprintf(w, "\nFailed thresholds:\n\n%s\n", strings.Join(failed, "\n"))
	}
	fmt.Fprintf(w, "\n%s", Legend)
}

// line formats one row.
func (b *Board) line(sc, px string, row Row) string {
	verdict := "PASS"
	if !row.Pass {
		verdict = "**FAIL**"
	}
	if row.Stopped != "" && row.Stopped != "completed" {
		verdict += " (" + row.Stopped + ")"
	}
	origin, perSeg, rate, excess := "n/a", "n/a", "n/a", "–"
	if row.HasOrigin {
		origin = fmt.Sprintf("%.0f", row.Origin)
		perSeg = fmt.Sprintf("%.2f", row.PerSegment)
		rate = fmt.Sprintf("%.0f", row.OriginRate)
		if base, ok := b.baseline(px); ok && row.Attack > 0 {
			excess = excessCell(row.Origin-base, row.Attack)
		}
	}
	return fmt.Sprintf("| %s | %s | %s | %.1f %% (%d) | %d | %.0f | %.0f | %s | %s | %s | %d | %s | %s |\n",
		sc, px, verdict, 100*row.StallFree, row.Viewers, row.Refused, row.StartupP95, row.SegmentP99,
		origin, perSeg, rate, row.Attack, excess, mixCell(row.AttackStatus))
}

// excessCell shows the extra origin requests and their share of the attack.
func excessCell(extra float64, attack int64) string {
	frac := max(extra/float64(attack), 0)
	return fmt.Sprintf("%+.0f (%.1f %%)", extra, 100*frac)
}

// mixCell shows the attackers' outcomes, e.g. "429 61 % · 2xx 39 %".
func mixCell(status map[string]int64) string {
	mix, total := statusMix(status)
	if total == 0 {
		return "–"
	}
	parts := make([]string, 0, len(mix))
	for _, s := range mix {
		pct := 100 * float64(s.n) / float64(total)
		if pct < 0.05 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %.1f %%", s.bucket, pct))
	}
	return strings.Join(parts, " · ")
}
