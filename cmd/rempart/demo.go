package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/rempart/rempart/internal/edge"
	"github.com/rempart/rempart/internal/synth"
)

func newDemo() *cobra.Command {
	var of originFlags
	var listen, admin string
	c := &cobra.Command{
		Use:   "demo",
		Short: "Run a synthetic origin, the edge in front of it, and a player page",
		Long: `Start the synthetic origin, the edge in front of it, and serve a page (through
the edge) with a player (hls.js) playing the live stream and a live panel: cache
hit ratio, origin requests per second, viewers. Open the printed URL; several
tabs make several viewers. Ctrl-C stops everything.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			logger, err := newLogger(c)
			if err != nil {
				return err
			}
			opts, err := of.options()
			if err != nil {
				return err
			}
			return runDemo(c.Context(), c.OutOrStdout(), listen, admin, of.listen, opts, logger)
		},
	}
	c.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "public address of the edge")
	c.Flags().StringVar(&admin, "admin", "127.0.0.1:9090", "admin address of the edge (/metrics); \"off\" disables it")
	of.register(c, "origin-listen", "127.0.0.1:9000")
	return c
}

// runDemo runs the origin and the edge until ctx is done.
func runDemo(ctx context.Context, out io.Writer, listen, admin, originListen string, opts synth.Options, logger *slog.Logger) error {
	src, err := synth.New(opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", originListen)
	if err != nil {
		return usagef("--origin-listen %s: %v", originListen, err)
	}
	cfg, err := quickConfig(listen, "http://"+ln.Addr().String(), admin, false)
	if err != nil {
		ln.Close()
		return err
	}
	e, err := edge.New(cfg, edge.Options{Logger: logger, Panel: true})
	if err != nil {
		ln.Close()
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	if err := e.Start(gctx); err != nil {
		ln.Close()
		return err
	}
	g.Go(e.Wait)
	g.Go(func() error { return synth.Serve(gctx, ln, src, logger.With("component", "origin")) })
	printDemo(out, e, ln.Addr().String())
	return g.Wait()
}

func printDemo(out io.Writer, e *edge.Edge, originAddr string) {
	base := "http://" + e.Addr()
	fmt.Fprintf(out, "\nrempart demo is running.\n\n")
	fmt.Fprintf(out, "  Watch:    %s/_rempart/demo.html\n", base)
	fmt.Fprintf(out, "  Stream:   %s/live/master.m3u8\n", base)
	if a := e.AdminAddr(); a != "" {
		fmt.Fprintf(out, "  Metrics:  http://%s/metrics\n", a)
	}
	fmt.Fprintf(out, "  Origin:   http://%s (synthetic, behind the edge)\n\nPress Ctrl-C to stop.\n", originAddr)
}
