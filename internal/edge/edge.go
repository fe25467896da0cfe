package edge

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/rempart/rempart/internal/cache"
	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/guard"
	"github.com/rempart/rempart/internal/identity"
	"github.com/rempart/rempart/internal/telemetry"
)

// ownPrefix is the path under which the edge answers for itself (demo page,
// live panel; later the waiting room, challenge and status pages).
const ownPrefix = "/_rempart/"

// Options tune an Edge beyond its configuration.
type Options struct {
	// Logger receives the edge's logs. If nil, slog.Default() is used.
	Logger *slog.Logger
	// Now is the clock. If nil, time.Now is used.
	Now func() time.Time
	// Panel serves the demo page and its live panel data under /_rempart/
	// on the public listener. Off by default: a production edge shows
	// nothing of itself on the public listener.
	Panel bool
}

// Edge is one running edge: listeners, the current pipeline, the shared
// cache and the statistics every consumer reads.
type Edge struct {
	logger  *slog.Logger
	now     func() time.Time
	store   *cache.Store
	def     *defences // the shield's long-lived state
	stats   *telemetry.Stats
	reg     *prometheus.Registry
	own     http.Handler // the edge's own pages, nil unless Options.Panel
	started time.Time

	cfg  atomic.Pointer[config.Config]
	pipe atomic.Pointer[pipeline]

	reloadMu sync.Mutex // serializes Reload
	reloads  [2]atomic.Uint64
	ready    atomic.Bool

	// Set by Start.
	public, admin *http.Server
	publicLn      net.Listener
	adminLn       net.Listener
	group         *errgroup.Group
}

// Viewer table bounds: enough for a large audience on one edge, bounded so
// a botnet cannot grow it.
const (
	maxTrackedViewers = 1 << 20
	viewerWindow      = 30 * time.Second
)

// New builds an edge for cfg, which must have passed config validation.
// Nothing listens until Start.
func New(cfg *config.Config, opts Options) (*Edge, error) {
	e := &Edge{logger: opts.Logger, now: opts.Now}
	if e.logger == nil {
		e.logger = slog.Default()
	}
	if e.now == nil {
		e.now = time.Now
	}
	store, err := cache.NewStore(cfg.Cache, e.logger.With("stage", "cache"))
	if err != nil {
		return nil, fmt.Errorf("build cache: %w", err)
	}
	e.store = store
	e.stats = telemetry.NewStats(maxTrackedViewers, viewerWindow)
	e.started = e.now()
	if e.def, err = newDefences(cfg, e.logger, e.now); err != nil {
		store.Close()
		return nil, err
	}
	e.def.watching = e.stats.Viewers.Recent
	p, err := buildPipeline(cfg, store, e.def, nil, e.logger)
	if err != nil {
		store.Close()
		return nil, err
	}
	e.cfg.Store(cfg)
	e.pipe.Store(p)
	p.applyRooms(e.logger)
	if opts.Panel {
		// The panel reads the pipeline's pools, so it is built after it
		// and then put in front of it.
		e.own = newPanel(e)
		p.handler = p.front(e.own)
	}
	e.reg = newRegistry(e)
	return e, nil
}

// ServeHTTP is the entry of every public request: it opens the request's
// record, runs the current pipeline and hands the record to the consumers.
func (e *Edge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tw := telemetry.NewWriter(w, e.now())
	tw.Rec.Client = clientAddr(r.RemoteAddr)
	defer e.finish(tw, r)
	e.pipe.Load().handler.ServeHTTP(tw, r)
}

// finish accounts for the request, also when a stage aborted it with a
// panic (http.ErrAbortHandler truncates a response on purpose), and lets the
// panic continue to net/http, which closes the connection.
func (e *Edge) finish(tw *telemetry.Writer, r *http.Request) {
	v := recover()
	rec := &tw.Rec
	if rec.Outcome == telemetry.OutcomeNone || v != nil {
		rec.Outcome = telemetry.OutcomeError
		if v == nil && rec.Status > 0 && rec.Status < 500 {
			rec.Outcome = telemetry.OutcomePass
		}
	}
	now := e.now()
	e.stats.Observe(rec, now)
	e.def.observe(rec, r, now)
	tw.Release()
	if v != nil {
		if v != http.ErrAbortHandler {
			e.logger.Error("handler panic", "panic", v, "stack", string(debug.Stack()))
		}
		panic(v)
	}
}

func clientAddr(remote string) netip.Addr {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// Stats returns the request statistics.
func (e *Edge) Stats() *telemetry.Stats { return e.stats }

// Config returns the configuration in force.
func (e *Edge) Config() *config.Config { return e.cfg.Load() }

// Reload swaps in a pipeline built from cfg (already validated). On error
// the old pipeline stays in force and the error says why. Listener
// addresses, TLS, limits and cache sizes are read at start only: a change
// there is logged as needing a restart.
func (e *Edge) Reload(cfg *config.Config) error {
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	p, err := buildPipeline(cfg, e.store, e.def, e.own, e.logger)
	if err == nil {
		if err = e.def.reload(cfg); err != nil {
			p.close()
		}
	}
	if err != nil {
		e.reloads[1].Add(1)
		return fmt.Errorf("reload: keeping the running configuration: %w", err)
	}
	old := e.cfg.Load()
	e.warnRestartOnly(old, cfg)
	e.cfg.Store(cfg)
	oldPipe := e.pipe.Swap(p)
	oldPipe.close()
	p.applyRooms(e.logger)
	e.reloads[0].Add(1)
	e.logger.Info("configuration reloaded", "sites", len(cfg.Sites))
	return nil
}

func (e *Edge) warnRestartOnly(old, cfg *config.Config) {
	if old.Listen != cfg.Listen || old.Admin != cfg.Admin || old.TLS != cfg.TLS ||
		old.Limits != cfg.Limits || old.Cache != cfg.Cache || old.H2C != cfg.H2C {
		e.logger.Warn("listen, admin, tls, h2c, limits and cache changes take effect only after a restart")
	}
}

// Start binds the listeners and serves in goroutines owned by the edge until
// ctx is done; then it shuts down gracefully. Wait returns when all is
// stopped.
func (e *Edge) Start(ctx context.Context) error {
	cfg := e.cfg.Load()
	if err := e.listen(cfg); err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	e.group = g
	g.Go(func() error { return e.servePublic(cfg) })
	if e.adminLn != nil {
		g.Go(func() error { return serveErr("admin", e.admin.Serve(e.adminLn)) })
	}
	g.Go(func() error { return e.shutdownOnDone(gctx, cfg.Limits.ShutdownTimeout) })
	e.def.run(gctx, g.Go)
	e.ready.Store(true)
	e.logger.Info("edge listening", "public", e.publicLn.Addr().String(), "admin", e.AdminAddr(), "sites", len(cfg.Sites))
	return nil
}

// Wait blocks until the edge has stopped, returning the first serve error.
func (e *Edge) Wait() error { return e.group.Wait() }

// Run is Start then Wait.
func (e *Edge) Run(ctx context.Context) error {
	if err := e.Start(ctx); err != nil {
		return err
	}
	return e.Wait()
}

// Addr returns the public listener's address once started.
func (e *Edge) Addr() string { return e.publicLn.Addr().String() }

// AdminAddr returns the admin listener's address, or "" when it is off.
func (e *Edge) AdminAddr() string {
	if e.adminLn == nil {
		return ""
	}
	return e.adminLn.Addr().String()
}

func (e *Edge) listen(cfg *config.Config) error {
	var err error
	if e.publicLn, err = net.Listen("tcp", cfg.Listen); err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Listen, err)
	}
	e.publicLn = e.guardListener(e.publicLn, cfg)
	e.public = &http.Server{Handler: e.handler(cfg), ErrorLog: slog.NewLogLogger(e.logger.Handler(), slog.LevelDebug),
		ConnContext: connContext, ConnState: identity.ConnState}
	guard.Apply(e.public, cfg.Limits, &e.def.conns)
	if err := configureProtocols(e.public, cfg); err != nil {
		e.publicLn.Close()
		return err
	}
	if e.public.TLSConfig != nil && cfg.Shield.Mode != "off" {
		if err := guard.ServeH2TLS(e.public, resetLimits(cfg), &e.def.conns); err != nil {
			e.publicLn.Close()
			return err
		}
	}
	if cfg.Admin.Listen == "off" {
		return nil
	}
	if e.adminLn, err = net.Listen("tcp", cfg.Admin.Listen); err != nil {
		e.publicLn.Close()
		return fmt.Errorf("listen admin %s: %w", cfg.Admin.Listen, err)
	}
	e.admin = &http.Server{Handler: e.adminHandler(cfg), ReadHeaderTimeout: 5 * time.Second,
		ErrorLog: slog.NewLogLogger(e.logger.Handler(), slog.LevelDebug)}
	return nil
}

func configureProtocols(srv *http.Server, cfg *config.Config) error {
	if cfg.TLS.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLS.CertFile, cfg.TLS.KeyFile)
		if err != nil {
			return fmt.Errorf("load tls.cert_file/tls.key_file: %w", err)
		}
		srv.TLSConfig = identity.TLSConfig(&tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}})
		return nil
	}
	if cfg.H2C {
		srv.Protocols = new(http.Protocols)
		srv.Protocols.SetHTTP1(true)
		srv.Protocols.SetUnencryptedHTTP2(true)
	}
	return nil
}

func (e *Edge) servePublic(cfg *config.Config) error {
	if e.public.TLSConfig != nil {
		return serveErr("public", e.public.ServeTLS(e.publicLn, "", ""))
	}
	return serveErr("public", e.public.Serve(e.publicLn))
}

func serveErr(name string, err error) error {
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("serve %s: %w", name, err)
}

// shutdownOnDone waits for ctx, then stops taking requests, lets those in
// flight finish within timeout, and releases the cache and origin pools.
func (e *Edge) shutdownOnDone(ctx context.Context, timeout time.Duration) error {
	<-ctx.Done()
	e.ready.Store(false)
	e.logger.Info("edge shutting down", "grace", timeout)
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := e.public.Shutdown(sctx)
	if err != nil {
		e.public.Close()
	}
	if e.admin != nil {
		e.admin.Close()
	}
	e.store.Close()
	e.pipe.Load().close()
	if err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	return nil
}

// guardListener wraps the public listener with the connection defences:
// the PROXY protocol from trusted proxies first (so the caps count real
// clients), then the per-address and total caps.
func (e *Edge) guardListener(ln net.Listener, cfg *config.Config) net.Listener {
	if cfg.Shield.Mode == "off" {
		return e.framed(ln, cfg)
	}
	if cfg.Shield.ProxyProtocol {
		ln = guard.ProxyListener(ln, trustedProxies(cfg), 0, &e.def.conns)
	}
	c := cfg.Shield.Conns
	ln = e.framed(guard.LimitListener(ln, c.PerIP, c.Total, &e.def.conns), cfg)
	if cfg.H2C && cfg.TLS.CertFile == "" {
		// Cleartext HTTP/2 is watched on the listener; over TLS, the
		// HTTP/2 server watches the decrypted connection (ServeH2TLS).
		ln = guard.H2Listener(ln, resetLimits(cfg), &e.def.conns)
	}
	return ln
}

// framed refuses requests framed two ways (Content-Length and
// Transfer-Encoding) on a cleartext listener, shield or not: it is request
// hygiene. Over TLS, guard.Hygiene closes the connection after every
// chunked HTTP/1 request instead.
func (e *Edge) framed(ln net.Listener, cfg *config.Config) net.Listener {
	if cfg.TLS.CertFile != "" {
		return ln
	}
	return guard.FramingListener(ln, &e.def.conns)
}

// resetLimits is the budget of streams one HTTP/2 connection may cancel.
func resetLimits(cfg *config.Config) guard.ResetLimits {
	return guard.ResetLimits{Rate: cfg.Shield.Conns.ResetRate, Burst: cfg.Shield.Conns.ResetBurst}
}

// handler is the public server's handler: the edge under the minimum read
// rate (slow-read defence), unless the shield is off.
func (e *Edge) handler(cfg *config.Config) http.Handler {
	c := cfg.Shield.Conns
	if cfg.Shield.Mode == "off" {
		return e
	}
	return guard.MinRate(guard.StreamRate(e, c.RequestRate, c.RequestBurst, &e.def.conns),
		int64(c.MinRate), c.MinRateWindow, &e.def.conns)
}

// connContext gives each connection what identity (its peer, its TLS
// fingerprint) and the stream-rate guard (its request budget) keep per
// connection.
func connContext(ctx context.Context, c net.Conn) context.Context {
	return guard.StreamConnContext(identity.ConnContext(ctx, c), c)
}
