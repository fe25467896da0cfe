package main

import (
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "rempart",
		Short: "The edge that keeps a streaming platform on air",
		Long: `rempart stands in front of a streaming origin (live HLS, on-demand files, the
app's API) and serves a flash crowd from cache with one origin fetch per object,
stale copies when the origin stumbles, and clear refusals for what is not ours.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().String("log-level", "info", "log level: debug, info, warn or error")
	root.PersistentFlags().String("log-format", "text", "log format: text or json")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usagef("%s: %v (see 'rempart %s -h')", c.Name(), err, c.Name())
	})
	root.AddCommand(newServe(), newOrigin(), newDemo(), newSiege(), newConfigCmd(), newEvidence(), newVersion())
	root.AddCommand(newBlockCmds()...)
	return root
}

// newLogger builds the process logger from the persistent flags.
func newLogger(c *cobra.Command) (*slog.Logger, error) {
	lvlName, _ := c.Flags().GetString("log-level")
	format, _ := c.Flags().GetString("log-format")
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(lvlName)); err != nil {
		return nil, usagef("--log-level %q: want debug, info, warn or error", lvlName)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, usagef("--log-format %q: want text or json", format)
}

func newVersion() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print rempart's version and the Go version it was built with",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			goVersion := "unknown"
			if bi, ok := debug.ReadBuildInfo(); ok {
				goVersion = bi.GoVersion
			}
			fmt.Fprintf(c.OutOrStdout(), "rempart %s (%s)\n", version, goVersion)
			return nil
		},
	}
}
