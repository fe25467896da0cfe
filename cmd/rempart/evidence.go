package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/evidence"
)

func newEvidence() *cobra.Command {
	c := &cobra.Command{
		Use:   "evidence",
		Short: "Check and export the hash-chained evidence log of attack traffic",
		Long: `The edge keeps a sample of the requests it refused or mitigated in a
hash-chained log (shield.evidence in the configuration), as evidence for a
complaint. 'verify' checks that no entry was altered, removed or reordered;
'export' writes the entries of a time range with a summary.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return usagef("evidence needs a subcommand: verify or export")
		},
	}
	c.AddCommand(newEvidenceVerify(), newEvidenceExport())
	return c
}

// evidenceDir is the --dir and --config pair both subcommands take.
type evidenceDir struct{ dir, config string }

func (d *evidenceDir) register(c *cobra.Command) {
	c.Flags().StringVar(&d.dir, "dir", "", "evidence directory (default: shield.evidence.dir of --config)")
	c.Flags().StringVar(&d.config, "config", "", "YAML configuration file naming the evidence directory")
}

// resolve returns the directory: --dir, else the one --config names.
func (d *evidenceDir) resolve() (string, error) {
	if d.dir != "" {
		return d.dir, nil
	}
	if d.config == "" {
		return "", usagef("--dir or --config is required")
	}
	cfg, err := config.Load(d.config)
	if err != nil {
		return "", err
	}
	if cfg.Shield.Evidence.Dir == "" {
		return "", usagef("%s: shield.evidence.dir is not set: pass --dir", d.config)
	}
	return cfg.Shield.Evidence.Dir, nil
}

func newEvidenceVerify() *cobra.Command {
	var d evidenceDir
	c := &cobra.Command{
		Use:   "verify",
		Short: "Check every entry's hash and its link to the one before",
		Long: `Walk every file of the evidence log in order and check each entry's hash and
its link to the entry before. Exits 0 when the chain holds, 1 naming the file,
line and seq of the first break.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			dir, err := d.resolve()
			if err != nil {
				return err
			}
			return runEvidenceVerify(c.OutOrStdout(), dir)
		},
	}
	d.register(c)
	return c
}

func runEvidenceVerify(out io.Writer, dir string) error {
	rep, err := evidence.Verify(dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s: %d entries (%d requests, %d gaps, %d pruned) in %d files, %s to %s\n",
		dir, rep.Entries, rep.Requests, rep.Gaps, rep.Prunes, rep.Files,
		rep.From.Format(time.RFC3339), rep.To.Format(time.RFC3339))
	fmt.Fprintf(out, "anchor: %s\nhead: seq %d %s\n", rep.AnchorText(), rep.HeadSeq, rep.Head)
	if rep.TornTail != "" {
		fmt.Fprintf(out, "note: %s\n", rep.TornTail)
	}
	if !rep.OK() {
		return fmt.Errorf("%s: chain broken at %v (%d problems in all)", dir, rep.First, rep.Problems)
	}
	fmt.Fprintln(out, "OK: the chain holds")
	return nil
}

type exportFlags struct {
	evidenceDir
	since, until, out string
}

func newEvidenceExport() *cobra.Command {
	var f exportFlags
	c := &cobra.Command{
		Use:   "export",
		Short: "Write the entries of a time range as JSON lines, with a summary",
		Long: `Write the entries whose time is in [--since, --until) as JSON lines, unchanged so
that each still verifies, then a summary line: top sources, prefixes,
fingerprints and paths, counts by action, the time range, the chain's head
and whether the whole chain verified. Times are RFC 3339 (2026-03-14T20:00:00Z)
or relative to now (-1h, -30m). Exits 1 if the chain does not verify; the
export is written all the same.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runEvidenceExport(c.OutOrStdout(), c.ErrOrStderr(), f, time.Now())
		},
	}
	f.register(c)
	c.Flags().StringVar(&f.since, "since", "", "start of the range, included (default: the oldest entry)")
	c.Flags().StringVar(&f.until, "until", "", "end of the range, excluded (default: none)")
	c.Flags().StringVar(&f.out, "out", "", "file to write (default: standard output)")
	return c
}

func runEvidenceExport(stdout, stderr io.Writer, f exportFlags, now time.Time) error {
	dir, err := f.resolve()
	if err != nil {
		return err
	}
	since, err := parseWhen("--since", f.since, now)
	if err != nil {
		return err
	}
	until, err := parseWhen("--until", f.until, now)
	if err != nil {
		return err
	}
	if !since.IsZero() && !until.IsZero() && !until.After(since) {
		return usagef("--until %s is not after --since %s", f.until, f.since)
	}
	w, done := stdout, func() error { return nil }
	if f.out != "" {
		file, err := os.OpenFile(f.out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		w, done = file, file.Close
	}
	sum, err := evidence.Export(dir, since, until, w)
	if cerr := done(); err == nil && cerr != nil {
		err = fmt.Errorf("export: close %s: %w", f.out, cerr)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "exported %d entries (%d requests); head seq %d %s\n", sum.Entries, sum.Requests, sum.HeadSeq, sum.Head)
	if !sum.Verified {
		return fmt.Errorf("%s: exported, but the chain does not verify: %s (%d problems in all)", dir, sum.Problem, sum.Problems)
	}
	return nil
}

// parseWhen reads a time flag: RFC 3339, or a negative duration before now.
func parseWhen(flag, s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if strings.HasPrefix(s, "-") {
		d, err := time.ParseDuration(s)
		if err != nil {
			return time.Time{}, usagef("%s %q: want RFC 3339 or a duration before now such as -1h", flag, s)
		}
		return now.Add(d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, usagef("%s %q: want RFC 3339 (2026-03-14T20:00:00Z) or a duration before now such as -1h", flag, s)
	}
	return t, nil
}
