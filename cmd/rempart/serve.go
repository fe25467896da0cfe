package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/edge"
)

type serveFlags struct {
	config, listen, origin, admin string
	h2c                           bool
}

func newServe() *cobra.Command {
	var f serveFlags
	c := &cobra.Command{
		Use:   "serve (--config FILE | --origin URL [--listen ADDR])",
		Short: "Run the edge in front of an origin",
		Long: `Run the edge. Quick start with no file:

  rempart serve --listen 127.0.0.1:8080 --origin http://127.0.0.1:9000

or with the full configuration (sites by Host, origins, route classes, cache,
timeouts, admin listener; see rempart.example.yaml):

  rempart serve --config rempart.yaml

SIGHUP reloads the configuration file; a bad file keeps the running one.
SIGINT or SIGTERM stop gracefully.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			logger, err := newLogger(c)
			if err != nil {
				return err
			}
			cfg, err := serveConfig(c, f)
			if err != nil {
				return err
			}
			return serve(c.Context(), cfg, f.config, logger)
		},
	}
	c.Flags().StringVar(&f.config, "config", "", "YAML configuration file (see rempart.example.yaml)")
	c.Flags().StringVar(&f.listen, "listen", "127.0.0.1:8080", "quick start: public address host:port")
	c.Flags().StringVar(&f.origin, "origin", "", "quick start: origin base URL, e.g. http://127.0.0.1:9000")
	c.Flags().StringVar(&f.admin, "admin", "127.0.0.1:9090", "quick start: admin address host:port for /metrics, /healthz, pprof; \"off\" disables it")
	c.Flags().BoolVar(&f.h2c, "h2c", false, "quick start: accept cleartext HTTP/2 (prior knowledge)")
	return c
}

// serveConfig builds the configuration from either --config or the quick
// start flags, never a mix of both.
func serveConfig(c *cobra.Command, f serveFlags) (*config.Config, error) {
	if f.config != "" {
		for _, name := range []string{"listen", "origin", "admin", "h2c"} {
			if c.Flags().Changed(name) {
				return nil, usagef("--%s cannot be combined with --config: set it in the file instead", name)
			}
		}
		return config.Load(f.config)
	}
	if f.origin == "" {
		return nil, usagef("serve needs --origin URL (quick start) or --config FILE")
	}
	return quickConfig(f.listen, f.origin, f.admin, f.h2c)
}

// quickConfig is the quick-start configuration; errors name the flag.
func quickConfig(listen, origin, admin string, h2c bool) (*config.Config, error) {
	cfg, err := config.Quick(listen, origin)
	if err != nil {
		return nil, usagef("--listen %q / --origin %q: %v", listen, origin, err)
	}
	cfg.Admin.Listen = admin
	cfg.H2C = h2c
	if err := cfg.Validate(); err != nil {
		return nil, usagef("--admin %q: %v", admin, err)
	}
	return cfg, nil
}

// serve runs an edge until ctx is done, reloading path on SIGHUP.
func serve(ctx context.Context, cfg *config.Config, path string, logger *slog.Logger) error {
	e, err := edge.New(cfg, edge.Options{Logger: logger})
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	if err := e.Start(gctx); err != nil {
		return err
	}
	g.Go(e.Wait)
	g.Go(func() error { reloadOnHUP(gctx, e, path, logger); return nil })
	return g.Wait()
}

// reloadOnHUP reloads the configuration file on each SIGHUP until ctx is
// done. A file that fails to load or build keeps the running configuration.
func reloadOnHUP(ctx context.Context, e *edge.Edge, path string, logger *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		if path == "" {
			logger.Warn("SIGHUP ignored: started without --config, nothing to reload")
			continue
		}
		cfg, err := config.Load(path)
		if err == nil {
			err = e.Reload(cfg)
		}
		if err != nil {
			logger.Error("reload failed, running configuration kept", "file", path, "err", err)
		}
	}
}
