package attack

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/rempart/rempart/internal/siege/sim"
)

// ErrServerClosed is wrapped by the error recorded when the target ended a
// connection an attack meant to hold.
var ErrServerClosed = errors.New("server closed the connection")

// errNoTarget is recorded when the run has no usable target URL.
var errNoTarget = errors.New("attack: target URL must be http:// or https:// with a host")

// target is where a population sends its traffic, resolved once from Env.
type target struct {
	addr   string      // host:port, used only when Env.Dial is nil
	host   string      // the Host header (or :authority)
	prefix string      // Target's path prefix, without a trailing slash
	tls    *tls.Config // nil for http:// targets
}

// newTarget resolves env.Target; alpn are the protocols offered over TLS.
// Params "insecure" (bool, default false) skips certificate verification,
// for self-signed test edges.
func newTarget(env *sim.Env, p sim.Params, alpn ...string) (*target, error) {
	u := env.Target
	if u == nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, errNoTarget
	}
	t := &target{host: u.Host, prefix: strings.TrimSuffix(u.Path, "/")}
	if env.Host != "" {
		t.host = env.Host
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	t.addr = net.JoinHostPort(u.Hostname(), port)
	if u.Scheme == "https" {
		name, _, err := net.SplitHostPort(t.host)
		if err != nil {
			name = t.host
		}
		t.tls = &tls.Config{
			ServerName:         name,
			NextProtos:         alpn,
			InsecureSkipVerify: p.Bool("insecure", false), // #nosec G402 -- opt-in for test edges
		}
	}
	return t, nil
}

// path joins the target's prefix and p.
func (t *target) path(p string) string {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return t.prefix + p
}

// dialTCP opens a plain TCP connection from src through env.Dial.
func (t *target) dialTCP(ctx context.Context, env *sim.Env, src netip.Addr) (net.Conn, error) {
	if env.Dial != nil {
		return env.Dial(ctx, src)
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	if src.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: src.AsSlice()}
	}
	return d.DialContext(ctx, "tcp", t.addr)
}

// dial opens a connection from src, speaking TLS on https:// targets. raw
// is the TCP connection under it, which aborts close to unblock any I/O.
func (t *target) dial(ctx context.Context, env *sim.Env, src netip.Addr) (c, raw net.Conn, err error) {
	raw, err = t.dialTCP(ctx, env, src)
	if err != nil {
		return nil, nil, fmt.Errorf("dial: %w", err)
	}
	if t.tls == nil {
		return raw, raw, nil
	}
	tc := tls.Client(raw, t.tls)
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, nil, fmt.Errorf("tls handshake: %w", err)
	}
	return tc, raw, nil
}

// take asks the run's budget for one request or connection. A nil budget
// refuses: a run without a cap sends nothing rather than everything.
func take(env *sim.Env) bool { return env.Budget != nil && env.Budget.Take() }

// now reads the run's clock.
func now(env *sim.Env) time.Time {
	if env.Now != nil {
		return env.Now()
	}
	return time.Now()
}

// intended is when the client's first request counts from.
func intended(env *sim.Env, c sim.Client) time.Time {
	if c.Intended.IsZero() {
		return now(env)
	}
	return c.Intended
}

// sleep waits d or until ctx is done; false means ctx is done.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
