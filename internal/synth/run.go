package synth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// shutdownTimeout bounds how long a stopping origin waits for requests in
// flight (slow clients, added Latency) before it closes their connections.
const shutdownTimeout = 5 * time.Second

// Run serves the synthetic origin on listen (host:port) until ctx is done,
// then shuts down gracefully. A nil logger means slog.Default().
func Run(ctx context.Context, listen string, opts Options, logger *slog.Logger) error {
	srv, err := New(opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("synth: listen on %s: %w", listen, err)
	}
	return Serve(ctx, ln, srv, logger)
}

// Serve serves h on ln until ctx is done, then shuts down gracefully. It
// closes ln. A nil logger means slog.Default().
func Serve(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.Default()
	}
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	logger.Info("synth origin listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("synth: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	if err != nil {
		hs.Close()
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("synth: serve: %w", serr)
	}
	logger.Info("synth origin stopped", "addr", ln.Addr().String())
	if err != nil {
		return fmt.Errorf("synth: shutdown: %w", err)
	}
	return nil
}
