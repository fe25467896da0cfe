package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rempart/rempart/internal/filter"
)

// defaultAdmin is the edge's default admin address: loopback.
const defaultAdmin = "127.0.0.1:9090"

// adminTimeout bounds one call to the admin API.
const adminTimeout = 30 * time.Second

// newBlockCmds returns block, unblock and blocks: operator commands that
// talk to a running edge's admin API.
func newBlockCmds() []*cobra.Command {
	return []*cobra.Command{newBlock(), newUnblock(), newBlocks()}
}

func addAdminFlag(c *cobra.Command, admin *string) {
	c.Flags().StringVar(admin, "admin", defaultAdmin, "admin address of the running edge, host:port or http://host:port")
}

func newBlock() *cobra.Command {
	var (
		admin, reason string
		ttl           time.Duration
	)
	c := &cobra.Command{
		Use:   "block PREFIX [--ttl 1h] [--reason TEXT]",
		Short: "Block a prefix or an address on a running edge",
		Long: `Block PREFIX (a CIDR such as 203.0.113.0/24, or one address) on the edge at
--admin: every request from it is refused with 403 until the block expires.
Blocking a blocked prefix renews it. Prefixes wider than /8 (IPv4) or /32
(IPv6) are refused; for permanent blocks use shield.block_files.`,
		Args: exactArgs(1, "block needs one PREFIX argument, such as 203.0.113.0/24"),
		RunE: func(c *cobra.Command, args []string) error {
			if _, err := filter.ParsePrefix(args[0]); err != nil {
				return usagef("PREFIX: %v", err)
			}
			if ttl <= 0 || ttl > filter.MaxTTL {
				return usagef("--ttl %v: want a duration in (0, %v], such as 30m or 24h", ttl, filter.MaxTTL)
			}
			body, _ := json.Marshal(filter.BlockRequest{Prefix: args[0], TTL: ttl.String(), Reason: reason})
			var b filter.BlockInfo
			if err := callAdmin(c.Context(), admin, http.MethodPost, "/api/blocks", nil, body, &b); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "blocked %s until %s: %s\n", b.Prefix, b.Until.Format(time.RFC3339), b.Reason)
			return nil
		},
	}
	addAdminFlag(c, &admin)
	c.Flags().DurationVar(&ttl, "ttl", time.Hour, "how long the block lasts")
	c.Flags().StringVar(&reason, "reason", "", "why, for the record and the operators after you")
	return c
}

func newUnblock() *cobra.Command {
	var admin string
	c := &cobra.Command{
		Use:   "unblock PREFIX",
		Short: "Lift a block on a running edge",
		Long: `Lift the block of exactly PREFIX (as 'rempart blocks' lists it) on the edge at
--admin. Blocks from block files stay: edit the file and reload.`,
		Args: exactArgs(1, "unblock needs one PREFIX argument, as 'rempart blocks' lists it"),
		RunE: func(c *cobra.Command, args []string) error {
			p, err := filter.ParsePrefix(args[0])
			if err != nil {
				return usagef("PREFIX: %v", err)
			}
			q := url.Values{"prefix": {p.String()}}
			if err := callAdmin(c.Context(), admin, http.MethodDelete, "/api/blocks", q, nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "unblocked %s\n", p)
			return nil
		},
	}
	addAdminFlag(c, &admin)
	return c
}

func newBlocks() *cobra.Command {
	var (
		admin  string
		asJSON bool
	)
	c := &cobra.Command{
		Use:   "blocks [--json]",
		Short: "List the blocks of a running edge",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			var list []filter.BlockInfo
			if err := callAdmin(c.Context(), admin, http.MethodGet, "/api/blocks", nil, nil, &list); err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(c.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(list)
			}
			return printBlocks(c.OutOrStdout(), list)
		},
	}
	addAdminFlag(c, &admin)
	c.Flags().BoolVar(&asJSON, "json", false, "print the list as JSON")
	return c
}

func printBlocks(w io.Writer, list []filter.BlockInfo) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PREFIX\tUNTIL\tHITS\tSOURCE\tREASON")
	for _, b := range list {
		until := "never"
		if !b.Until.IsZero() {
			until = b.Until.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", b.Prefix, until, b.Hits, b.Source, b.Reason)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d block(s)\n", len(list))
	return err
}

// adminURL turns --admin into the API's base URL.
func adminURL(admin string) (*url.URL, error) {
	raw := admin
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && (u.Path == "" || u.Path == "/") {
		if _, port, perr := net.SplitHostPort(u.Host); perr == nil && port != "" {
			return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
		}
	}
	return nil, usagef("--admin %q: want host:port or http://host:port, such as %s", admin, defaultAdmin)
}

// callAdmin sends one request to the admin API and decodes its answer into
// out (when not nil). An error answer comes back as the API's message.
func callAdmin(ctx context.Context, admin, method, path string, query url.Values, body []byte, out any) error {
	base, err := adminURL(admin)
	if err != nil {
		return err
	}
	u := base.JoinPath(path)
	u.RawQuery = query.Encode()
	ctx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build admin request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("reach the admin API at %s (--admin): %w; is 'rempart serve' running with its admin listener there?", base.Host, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return apiFailure(base.Host, resp)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("read the admin API's answer from %s: %w", base.Host, err)
	}
	return nil
}

// apiFailure turns an error answer into an error carrying its message.
func apiFailure(host string, resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		return errors.New(e.Error)
	}
	if resp.StatusCode == http.StatusNotFound {
		return fmt.Errorf("admin API at %s (--admin) has no %s: is it an edge with the shield on?", host, resp.Request.URL.Path)
	}
	return fmt.Errorf("admin API at %s (--admin): %s", host, resp.Status)
}
