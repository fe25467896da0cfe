package attack

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rempart/rempart/internal/siege/sim"
)

// Defaults of the request floods.
const (
	defaultFloodUA   = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
	defaultConns     = 64   // keep-alive connections per source
	defaultSources   = 256  // source addresses a flood folds its clients onto
	maxOwnSources    = 1024 // pools kept when every request keeps its own address
	defaultTimeout   = 10 * time.Second
	defaultHotPath   = "/live/master.m3u8"
	defaultLoginPath = "/api/login"
	defaultQueryPath = "/api/search?q="
)

// floodLinger is how long a population's connections stay open once none
// of its clients is active; a var so tests can shorten it.
var floodLinger = 2 * time.Second

// builder appends one request of a flood to dst.
type builder func(dst []byte, fp *floodPop) []byte

// flood is a request-flood model: each Run is one request, on a keep-alive
// connection shared with the other clients of the same source.
//
// Params (all optional):
//   - path: the object requested (get-flood, cache-bust: /live/master.m3u8;
//     login-flood: /api/login; search-flood: /api/search?q=, to which a
//     random word is appended). A login-flood whose path ends in "="
//     (path: /api/search?q=) is the search variant: GET path + a word.
//   - mode (cache-bust): query (default) appends ?<random key>=<random>,
//     path appends /<random>, both does both.
//   - user_agent: the fixed User-Agent (a desktop Chrome).
//   - conns: keep-alive connections per source address (64).
//   - sources: how many source addresses the flood's requests come from
//     (256). The runner gives every client its own address, and a flood
//     client is one request: taken literally that is one new connection
//     per request, which is neither what a botnet of a few thousand hosts
//     does nor affordable at 50,000 requests/s. So client ID mod sources
//     picks a slot, and the slot sends from the address of the first client
//     that used it: the flood comes from `sources` of the run's real
//     addresses over keep-alive connections. 0 sends each request from its
//     own client's address (a new connection each time when addresses are
//     all distinct); the pools of the last 1024 addresses are kept.
//   - timeout: per request ("10s").
//   - insecure: skip TLS verification on https:// targets (false).
type flood struct {
	build builder
	path  string // default path

	mu   sync.RWMutex // guards pops
	pops map[popKey]*floodPop
}

// popKey names one population of one run.
type popKey struct {
	env *sim.Env
	pop int
}

func newFlood(b builder, path string) *flood {
	return &flood{build: b, path: path, pops: map[popKey]*floodPop{}}
}

// Run sends one request and records it.
func (f *flood) Run(ctx context.Context, env *sim.Env, c sim.Client) {
	fp := f.pop(env, c.Pop)
	if ctx.Err() != nil {
		return
	}
	if fp.err != nil {
		env.Rec.Request(c.Pop, sim.KindAttack, intended(env, c), 0, 0, 0, fp.err)
		return
	}
	if !take(env) {
		return
	}
	fp.active.Add(1)
	defer fp.leave()
	start := intended(env, c)
	r, err := fp.do(ctx, env, fp.source(c))
	env.Rec.Request(c.Pop, sim.KindAttack, start, now(env).Sub(start), r.status, r.bytes, err)
}

// pop returns the state of one population, made on its first client.
func (f *flood) pop(env *sim.Env, pop int) *floodPop {
	k := popKey{env, pop}
	f.mu.RLock()
	fp := f.pops[k]
	f.mu.RUnlock()
	if fp != nil {
		return fp
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if fp = f.pops[k]; fp == nil {
		fp = newFloodPop(env, pop, f)
		f.pops[k] = fp
	}
	return fp
}

// floodPop is one population's parameters and connections.
type floodPop struct {
	build    builder
	t        *target
	err      error  // bad target: every client records it
	path     string // prefix + path
	tail     []byte // " HTTP/1.1\r\nHost: ...\r\n...": the request after the URL
	bust     string // cache-bust mode
	timeout  time.Duration
	conns    int // per source
	sources  int // slots clients fold onto; 0: each keeps its own address
	idleStop *time.Timer

	active atomic.Int64 // requests in flight; at zero the linger timer runs

	mu    sync.RWMutex            // guards pools and slots
	pools map[netip.Addr]*srcPool // sources == 0: by the client's address
	slots []*srcPool              // sources > 0: by client ID mod sources
}

func newFloodPop(env *sim.Env, pop int, f *flood) *floodPop {
	var p sim.Params
	if pop >= 0 && pop < len(env.Params) {
		p = env.Params[pop]
	}
	fp := &floodPop{
		build:   f.build,
		bust:    p.String("mode", "query"),
		timeout: p.Duration("timeout", defaultTimeout),
		conns:   max(p.Int("conns", defaultConns), 1),
		sources: min(max(p.Int("sources", defaultSources), 0), 1<<16),
		pools:   map[netip.Addr]*srcPool{},
	}
	fp.t, fp.err = newTarget(env, p, "http/1.1")
	if fp.err != nil {
		return fp
	}
	fp.path = fp.t.path(p.String("path", f.path))
	if f.path == defaultLoginPath && strings.HasSuffix(fp.path, "=") {
		fp.build = buildSearch // login-flood's search variant: path "/api/search?q="
	}
	ua := p.String("user_agent", defaultFloodUA)
	fp.tail = fmt.Appendf(nil, " HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\n", fp.t.host, ua)
	fp.slots = make([]*srcPool, fp.sources)
	fp.idleStop = time.AfterFunc(time.Hour, fp.closeIdle)
	fp.idleStop.Stop()
	return fp
}

// leave ends one request; the last one out starts the linger timer.
func (fp *floodPop) leave() {
	if fp.active.Add(-1) == 0 {
		fp.idleStop.Reset(floodLinger)
	}
}

// closeIdle closes every connection once the population has been idle for
// floodLinger, so a finished run leaves no sockets behind.
func (fp *floodPop) closeIdle() {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	if fp.active.Load() != 0 {
		return // busy again; the next leave re-arms the timer
	}
	for src, p := range fp.pools {
		p.close()
		delete(fp.pools, src)
	}
	for i, p := range fp.slots {
		if p != nil {
			p.close()
			fp.slots[i] = nil
		}
	}
}

// source returns the pool client c sends through (see "sources").
func (fp *floodPop) source(c sim.Client) *srcPool {
	if fp.sources == 0 {
		return fp.own(c.Source)
	}
	slot := int(uint64(c.ID) % uint64(fp.sources))
	fp.mu.RLock()
	p := fp.slots[slot]
	fp.mu.RUnlock()
	if p != nil {
		return p
	}
	fp.mu.Lock()
	defer fp.mu.Unlock()
	if p = fp.slots[slot]; p == nil {
		p = newSrcPool(c.Source, fp.conns)
		fp.slots[slot] = p
	}
	return p
}

// own returns the pool of src, evicting another when the table is full.
func (fp *floodPop) own(src netip.Addr) *srcPool {
	fp.mu.RLock()
	p := fp.pools[src]
	fp.mu.RUnlock()
	if p != nil {
		return p
	}
	fp.mu.Lock()
	defer fp.mu.Unlock()
	if p = fp.pools[src]; p != nil {
		return p
	}
	if len(fp.pools) >= maxOwnSources {
		for old, op := range fp.pools { // map order: an arbitrary victim
			op.close()
			delete(fp.pools, old)
			break
		}
	}
	p = newSrcPool(src, fp.conns)
	fp.pools[src] = p
	return p
}

// do sends one request from src. A reused connection that fails before any
// response byte (the server closed it while idle) is retried once on a
// fresh one: the request never reached the server.
func (fp *floodPop) do(ctx context.Context, env *sim.Env, p *srcPool) (response, error) {
	for attempt := 0; ; attempt++ {
		cn, reused, err := p.get(ctx, env, fp.t)
		if err != nil {
			return response{}, err
		}
		r, err := fp.exchange(ctx, cn)
		if err == nil && r.keep {
			p.put(cn)
		} else {
			p.discard(cn)
		}
		if err == nil || !reused || r.started || attempt > 0 || ctx.Err() != nil {
			return r, err
		}
	}
}

// exchange writes one request on cn and reads its response.
func (fp *floodPop) exchange(ctx context.Context, cn *conn1) (response, error) {
	cn.wbuf = fp.build(cn.wbuf[:0], fp)
	if err := cn.SetDeadline(time.Now().Add(fp.timeout)); err != nil {
		return response{}, fmt.Errorf("set deadline: %w", err)
	}
	stop := context.AfterFunc(ctx, cn.abort)
	defer stop()
	if _, err := cn.Write(cn.wbuf); err != nil {
		return response{}, fmt.Errorf("write request: %w", orCtx(ctx, err))
	}
	r, err := readResponse(cn.br)
	if err != nil {
		return r, orCtx(ctx, err)
	}
	return r, nil
}

// orCtx prefers ctx's error when an abort caused err.
func orCtx(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// The request builders.

// buildGet asks for the hot object.
func buildGet(dst []byte, fp *floodPop) []byte {
	dst = append(dst, "GET "...)
	dst = append(dst, fp.path...)
	return endHeader(append(dst, fp.tail...))
}

// buildCacheBust asks for the object under a URL no cache has seen.
func buildCacheBust(dst []byte, fp *floodPop) []byte {
	dst = append(dst, "GET "...)
	path, query, hasQuery := strings.Cut(fp.path, "?")
	dst = append(dst, path...)
	if fp.bust == "path" || fp.bust == "both" {
		dst = appendHex(append(dst, '/'), 12)
	}
	if hasQuery {
		dst = append(append(dst, '?'), query...)
	}
	if fp.bust != "path" {
		if hasQuery {
			dst = append(dst, '&')
		} else {
			dst = append(dst, '?')
		}
		dst = appendLetters(dst, 6)
		dst = appendHex(append(dst, '='), 16)
	}
	return endHeader(append(dst, fp.tail...))
}

// buildSearch asks the search API for a random word.
func buildSearch(dst []byte, fp *floodPop) []byte {
	dst = append(dst, "GET "...)
	dst = appendWord(append(dst, fp.path...))
	return endHeader(append(dst, fp.tail...))
}

// buildLogin posts random credentials, as a credential stuffer does.
func buildLogin(dst []byte, fp *floodPop) []byte {
	var user [32]byte
	u := appendHex(appendWord(user[:0]), 4)
	const frame = len(`{"username":"","password":""}`)
	const pwLen = 16
	dst = append(dst, "POST "...)
	dst = append(dst, fp.path...)
	dst = append(dst, fp.tail...)
	dst = append(dst, "Content-Type: application/json\r\nContent-Length: "...)
	dst = appendInt(dst, frame+len(u)+pwLen)
	dst = append(dst, "\r\n\r\n"+`{"username":"`...)
	dst = append(dst, u...)
	dst = append(dst, `","password":"`...)
	dst = appendHex(dst, pwLen)
	return append(dst, `"}`...)
}

func endHeader(dst []byte) []byte { return append(dst, "\r\n"...) }

// appendInt appends a non-negative decimal.
func appendInt(dst []byte, n int) []byte {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		if n /= 10; n == 0 {
			return append(dst, b[i:]...)
		}
	}
}
