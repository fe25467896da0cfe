package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rempart/rempart/internal/config"
)

func newConfigCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "config",
		Short: "Work with configuration files",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return usagef("config needs a subcommand: check")
		},
	}
	c.AddCommand(&cobra.Command{
		Use:   "check FILE",
		Short: "Validate a configuration file without starting anything",
		Long: `Load FILE exactly as 'rempart serve --config FILE' would and report every
problem with its key, the bad value and what would be valid. Exits 0 when the
file is good, 1 when it is not.`,
		Args: exactArgs(1, "config check needs one FILE argument"),
		RunE: func(c *cobra.Command, args []string) error {
			cfg, err := config.Load(args[0])
			if err != nil {
				return err
			}
			names := make([]string, len(cfg.Sites))
			for i, s := range cfg.Sites {
				names[i] = s.Name
			}
			fmt.Fprintf(c.OutOrStdout(), "%s: OK: listen %s, admin %s, %d site(s): %s\n",
				args[0], cfg.Listen, cfg.Admin.Listen, len(cfg.Sites), strings.Join(names, ", "))
			return nil
		},
	})
	return c
}

func exactArgs(n int, msg string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s (got %d)", msg, len(args))
		}
		return nil
	}
}
