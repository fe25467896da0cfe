package attack

import (
	"bufio"
	"context"
	"net"
	"net/netip"
	"sync/atomic"

	"github.com/rempart/rempart/internal/siege/sim"
)

// conn1 is one keep-alive HTTP/1.1 connection of a flood.
type conn1 struct {
	net.Conn
	raw   net.Conn // the TCP connection under a TLS one
	br    *bufio.Reader
	wbuf  []byte // the request being written, reused
	abort func() // closes raw; a method value made once, not per request
}

func newConn1(c, raw net.Conn) *conn1 {
	cn := &conn1{Conn: c, raw: raw, br: bufio.NewReaderSize(c, readBufSize), wbuf: make([]byte, 0, 512)}
	cn.abort = func() { cn.raw.Close() }
	return cn
}

// srcPool holds the keep-alive connections of one source address. Every
// open connection holds one of its slots, so a source never has more than
// cap(slots) connections, idle or busy; a request that finds them all busy
// waits for one (its latency, counted from its intended time, shows it).
type srcPool struct {
	src    netip.Addr
	idle   chan *conn1   // connections ready for a request; cap(idle) == cap(slots)
	slots  chan struct{} // one token per open connection
	closed atomic.Bool   // set before the pool is drained for good
}

func newSrcPool(src netip.Addr, max int) *srcPool {
	return &srcPool{src: src, idle: make(chan *conn1, max), slots: make(chan struct{}, max)}
}

// get returns an idle connection (reused) or dials one when a slot is free.
func (p *srcPool) get(ctx context.Context, env *sim.Env, t *target) (*conn1, bool, error) {
	select {
	case c := <-p.idle:
		return c, true, nil
	default:
	}
	select {
	case p.slots <- struct{}{}:
		return p.dial(ctx, env, t)
	default:
	}
	select {
	case c := <-p.idle:
		return c, true, nil
	case p.slots <- struct{}{}:
		return p.dial(ctx, env, t)
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
}

// dial opens a connection into the slot the caller holds.
func (p *srcPool) dial(ctx context.Context, env *sim.Env, t *target) (*conn1, bool, error) {
	c, raw, err := t.dial(ctx, env, p.src)
	if err != nil {
		<-p.slots
		return nil, false, err
	}
	return newConn1(c, raw), false, nil
}

// put returns a healthy connection for the next request. It never blocks:
// the connection holds a slot, so idle has room for it.
func (p *srcPool) put(c *conn1) {
	p.idle <- c
	// A drain may have run between our check-free send and now; if the
	// pool is closed, drain again so c is not stranded in a dead pool.
	if p.closed.Load() {
		p.drain()
	}
}

// discard closes a connection that must not be reused.
func (p *srcPool) discard(c *conn1) {
	c.Close()
	<-p.slots
}

// close closes the idle connections; busy ones close when returned.
func (p *srcPool) close() {
	p.closed.Store(true)
	p.drain()
}

func (p *srcPool) drain() {
	for {
		select {
		case c := <-p.idle:
			p.discard(c)
		default:
			return
		}
	}
}
