package attack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/rempart/rempart/internal/siege/sim"
)

// The connection attacks share one life: take a budget unit, dial, count
// the connection open, run the attack's session on it until the server
// ends it or ctx is done, record the outcome, and (when the server ended
// it) reconnect after a pause, up to a bound.
//
// Common Params:
//   - conns: connections each client holds at once (1).
//   - reconnects: reopenings after the server closed one (100).
//   - backoff: pause before reopening ("1s").
//
// Each connection is recorded once when it ends, with latency = how long
// it was held; err is nil when it was held until ctx was done, and wraps
// ErrServerClosed (with what was sent) when the server ended it.

// outcome is how one held connection ended.
type outcome struct {
	status int   // a status line the server sent, if any
	bytes  int64 // bytes the server sent
	err    error
}

// session attacks over one connection until it ends or ctx is done.
type session func(ctx context.Context, conn net.Conn) outcome

// holdOpts are the common Params of the connection attacks.
type holdOpts struct {
	conns      int
	reconnects int
	backoff    time.Duration
	plainTCP   bool // never speak TLS (conn-flood)
}

func readHoldOpts(p sim.Params) holdOpts {
	return holdOpts{
		conns:      min(max(p.Int("conns", 1), 1), 10_000),
		reconnects: max(p.Int("reconnects", 100), 0),
		backoff:    p.Duration("backoff", time.Second),
	}
}

// params returns the client's population parameters (nil when absent).
func params(env *sim.Env, c sim.Client) sim.Params {
	if c.Pop >= 0 && c.Pop < len(env.Params) {
		return env.Params[c.Pop]
	}
	return nil
}

// holdAll runs o.conns connection loops for one client and waits for them.
func holdAll(ctx context.Context, env *sim.Env, c sim.Client, t *target, o holdOpts, s session) {
	if o.conns == 1 {
		holdLoop(ctx, env, c, t, o, s)
		return
	}
	var wg sync.WaitGroup
	for range o.conns {
		wg.Go(func() { holdLoop(ctx, env, c, t, o, s) })
	}
	wg.Wait()
}

// holdLoop holds one connection, reopening it when the server closes it.
func holdLoop(ctx context.Context, env *sim.Env, c sim.Client, t *target, o holdOpts, s session) {
	start := intended(env, c)
	for i := 0; i <= o.reconnects && ctx.Err() == nil; i++ {
		if i > 0 {
			if !sleep(ctx, o.backoff) {
				return
			}
			start = now(env)
		}
		if !take(env) {
			return
		}
		out, dialed := holdConn(ctx, env, c, t, o, s)
		if !dialed && ctx.Err() != nil {
			return // the run ended while dialing: nothing to report
		}
		env.Rec.Request(c.Pop, sim.KindAttack, start, now(env).Sub(start), out.status, out.bytes, out.err)
	}
}

// holdConn dials and runs the session; dialed is false if the dial failed.
func holdConn(ctx context.Context, env *sim.Env, c sim.Client, t *target, o holdOpts, s session) (out outcome, dialed bool) {
	var conn, raw net.Conn
	var err error
	if o.plainTCP {
		conn, err = t.dialTCP(ctx, env, c.Source)
		raw = conn
	} else {
		conn, raw, err = t.dial(ctx, env, c.Source)
	}
	if err != nil {
		return outcome{err: err}, false
	}
	env.Rec.Conn(c.Pop, 1)
	defer env.Rec.Conn(c.Pop, -1)
	defer raw.Close()
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()
	out = s(ctx, conn)
	if ctx.Err() != nil {
		out.err = nil // held until the end: the attack's success
	}
	return out, true
}

// isTimeout reports whether err is a deadline we set ourselves.
func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

// statusOf parses the status code from the first bytes a server sent.
func statusOf(head []byte) int {
	if s, _, err := parseStatusLine(head); err == nil {
		return s
	}
	return 0
}

// closed describes a connection the server ended.
func closed(model string, held time.Duration, what string, cause error) error {
	if cause == nil {
		return fmt.Errorf("%s: %w after %s, %s", model, ErrServerClosed, held.Round(time.Millisecond), what)
	}
	return fmt.Errorf("%s: %w after %s, %s: %v", model, ErrServerClosed, held.Round(time.Millisecond), what, cause)
}
