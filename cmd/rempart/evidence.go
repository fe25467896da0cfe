package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
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
log whose entries are chained by HMACs under a key kept outside it
(shield.evidence in the configuration), as evidence for a complaint.
'verify' checks that no entry was altered, removed, reordered or renumbered,
and against the published head that the tail was not cut; 'export' writes
the entries of a time range with a summary.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return usagef("evidence needs a subcommand: verify or export")
		},
	}
	c.AddCommand(newEvidenceVerify(), newEvidenceExport())
	return c
}

// evidenceDir is the --dir and --config pair both subcommands take, with
// what checks the chain: the key, the published head, unkeyed entries.
type evidenceDir struct {
	dir, config, key, head string
	unkeyed                bool
}

func (d *evidenceDir) register(c *cobra.Command) {
	c.Flags().StringVar(&d.dir, "dir", "", "evidence directory (default: shield.evidence.dir of --config)")
	c.Flags().StringVar(&d.config, "config", "", "YAML configuration file naming the evidence directory and key")
	c.Flags().StringVar(&d.key, "key", "", "the chain's key file (default: shield.evidence.key_file of --config, else DIR.key)")
	c.Flags().StringVar(&d.head, "head", "", "the published head to check the tail against: a file (shield.evidence.head_file, or a copy), or the admin API's URL on loopback (http://127.0.0.1:9090/api/evidence/head)")
	c.Flags().BoolVar(&d.unkeyed, "unkeyed", false, "accept entries written before the chain was keyed (a plain SHA-256, which proves nothing against a rewrite) before the first keyed one")
}

// resolve returns the evidence section: --dir and --key, else what
// --config names, the key file defaulting as the edge's does.
func (d *evidenceDir) resolve() (config.Evidence, error) {
	var e config.Evidence
	switch {
	case d.dir != "":
		e.Dir = d.dir
	case d.config == "":
		return e, usagef("--dir or --config is required")
	default:
		cfg, err := config.Load(d.config)
		if err != nil {
			return e, err
		}
		if cfg.Shield.Evidence.Dir == "" {
			return e, usagef("%s: shield.evidence.dir is not set: pass --dir", d.config)
		}
		e = cfg.Shield.Evidence
	}
	if d.key != "" {
		e.KeyFile = d.key
	}
	e.Defaults()
	return e, nil
}

// options resolves the directory and what verifies it.
func (d *evidenceDir) options(ctx context.Context) (string, evidence.VerifyOptions, error) {
	e, err := d.resolve()
	if err != nil {
		return "", evidence.VerifyOptions{}, err
	}
	opts := evidence.VerifyOptions{Unkeyed: d.unkeyed, HeadSource: d.head}
	opts.Keys, err = evidence.LoadKeys(e.KeyFile)
	switch {
	case errors.Is(err, fs.ErrNotExist) && d.unkeyed:
		opts.Keys = nil // unkeyed entries only
	case err != nil:
		return "", opts, fmt.Errorf("%w: %w (pass --key FILE, the edge's shield.evidence.key_file; --unkeyed for a log written before the chain was keyed)",
			evidence.ErrNoKey, err)
	}
	if d.head != "" {
		h, err := readHead(ctx, d.head)
		if err != nil {
			return "", opts, err
		}
		opts.Head = &h
	}
	return e.Dir, opts, nil
}

// readHead reads a published head from a file or, for an http(s) URL,
// from the admin API, which must be on loopback: the admin listener is not
// for the network, and a head fetched across it proves nothing.
func readHead(ctx context.Context, src string) (evidence.Head, error) {
	if !strings.HasPrefix(src, "http://") && !strings.HasPrefix(src, "https://") {
		return evidence.ReadHead(src)
	}
	u, err := url.Parse(src)
	if err != nil {
		return evidence.Head{}, usagef("--head %q: %v", src, err)
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return evidence.Head{}, usagef("--head %s: a URL must be on loopback (127.0.0.1, ::1, localhost); copy a remote edge's head to a file and pass that", src)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return evidence.Head{}, usagef("--head %q: %v", src, err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return evidence.Head{}, fmt.Errorf("fetch evidence head: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return evidence.Head{}, fmt.Errorf("fetch evidence head %s: %w", src, err)
	}
	if resp.StatusCode != http.StatusOK {
		return evidence.Head{}, fmt.Errorf("fetch evidence head %s: %s: %s", src, resp.Status, strings.TrimSpace(string(body)))
	}
	h, err := evidence.ParseHead(body)
	if err != nil {
		return h, fmt.Errorf("evidence head %s: %w", src, err)
	}
	return h, nil
}

func newEvidenceVerify() *cobra.Command {
	var d evidenceDir
	c := &cobra.Command{
		Use:   "verify",
		Short: "Check every entry's keyed hash, its link to the one before, and the published head",
		Long: `Walk every file of the evidence log in order and check each entry's hash, an
HMAC under the chain's key (--key), and its link to the entry before: an
entry altered, removed, reordered or renumbered breaks the chain. With --head
(the head file the edge publishes, or its admin API on loopback), also check
that the log reaches the published head: that its tail was not cut. Exits 0
when the chain holds, 1 naming the file, line and seq of the first break.
See docs/evidence.md for what this proves.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			dir, opts, err := d.options(c.Context())
			if err != nil {
				return err
			}
			return runEvidenceVerify(c.OutOrStdout(), dir, opts)
		},
	}
	d.register(c)
	return c
}

func runEvidenceVerify(out io.Writer, dir string, opts evidence.VerifyOptions) error {
	rep, err := evidence.Verify(dir, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s: %d entries (%d requests, %d gaps, %d pruned, %d key changes) in %d files, %s to %s\n",
		dir, rep.Entries, rep.Requests, rep.Gaps, rep.Prunes, rep.Rekeys, rep.Files,
		rep.From.Format(time.RFC3339), rep.To.Format(time.RFC3339))
	fmt.Fprintf(out, "anchor: %s\nhead: seq %d %s\n", rep.AnchorText(), rep.HeadSeq, rep.Head)
	switch {
	case rep.Published != "":
		fmt.Fprintf(out, "published head: %s\n", rep.Published)
	case opts.Head == nil:
		fmt.Fprintln(out, "published head: not checked: a cut tail cannot be told from a log that ends here (--head)")
	}
	if rep.Unkeyed > 0 {
		fmt.Fprintf(out, "warning: %d unkeyed entries accepted (--unkeyed): anyone could have rewritten them\n", rep.Unkeyed)
	}
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
and whether the whole chain verified (as 'verify' does: --key, --head,
--unkeyed). Times are RFC 3339 (2026-03-14T20:00:00Z)
or relative to now (-1h, -30m). Exits 1 if the chain does not verify; the
export is written all the same.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runEvidenceExport(c.Context(), c.OutOrStdout(), c.ErrOrStderr(), f, time.Now())
		},
	}
	f.register(c)
	c.Flags().StringVar(&f.since, "since", "", "start of the range, included (default: the oldest entry)")
	c.Flags().StringVar(&f.until, "until", "", "end of the range, excluded (default: none)")
	c.Flags().StringVar(&f.out, "out", "", "file to write (default: standard output)")
	return c
}

func runEvidenceExport(ctx context.Context, stdout, stderr io.Writer, f exportFlags, now time.Time) error {
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
	dir, opts, err := f.options(ctx)
	if err != nil {
		return err
	}
	w, done := stdout, func() error { return nil }
	if f.out != "" {
		file, err := os.OpenFile(f.out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		w, done = file, file.Close
	}
	sum, err := evidence.Export(dir, opts, since, until, w)
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
