package viewer

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rempart/rempart/internal/siege/link"
	"github.com/rempart/rempart/internal/siege/sim"
)

// Errors that end a viewer's life.
var (
	// ErrBudget is returned when the run's request budget refused a request.
	ErrBudget = errors.New("viewer: request budget spent")
	// ErrOffTarget is returned for a URI that points away from the target:
	// siege sends requests to the target and nowhere else.
	ErrOffTarget = errors.New("viewer: URI is not on the target")
)

// Client limits: what one viewer reads and sends.
const (
	readBufferSize = 4 << 10  // bufio reader per connection
	maxQueueBody   = 16 << 10 // waiting-room answers and refusals read for their JSON
	maxHeaderValue = 1 << 10  // tickets and sessions longer than this are ignored
	// maxRedirects bounds the redirects one request follows: a degraded
	// rendition's playlist redirects once; more is a loop.
	maxRedirects = 5
)

// aLongTimeAgo unblocks every read and write when set as a deadline.
var aLongTimeAgo = time.Unix(1, 0)

// request is one exchange a model wants.
type request struct {
	kind      sim.Kind
	method    string   // "" means GET
	url       *url.URL // absolute, on the target
	body      []byte   // sent as JSON when not nil
	byteRange string   // Range header value, or ""
	intended  time.Time
	keep      int // body bytes to keep in response.body; the rest is counted and dropped
}

// response is what came back.
type response struct {
	status int
	header http.Header
	body   []byte        // the first request.keep bytes of the body
	n      int64         // body bytes read
	took   time.Duration // from sending to the end of the body
	url    *url.URL      // the URL that answered (after redirects); set by follow
}

// client is one viewer's HTTP/1.1 client: a single keep-alive connection
// to the target, opened from the viewer's source address, with its own
// cookies and admission credentials. A viewer sends one request at a time, as a
// player's loader does, so the client holds no goroutine and no lock: its
// memory is the connection, a 4 KiB read buffer, the request being
// written and, when the run has a link, the reader that paces bodies
// through it. It is not safe for concurrent use.
type client struct {
	env     *sim.Env
	pop     int
	src     netip.Addr
	now     func() time.Time
	timeout time.Duration // per request, dial to end of body
	host    string        // Host header
	ua      string        // User-Agent
	tls     *tls.Config   // nil for plain HTTP

	conn  net.Conn
	br    *bufio.Reader
	wbuf  []byte
	jar   jar
	paced *link.Reader // bodies go through the run's link; nil: no link

	// Admission credentials the target handed out, sent back on every
	// request as headers (the jar sends the cookies).
	ticket, session string
	// firstSent is when the first request was sent (the viewer's arrival
	// at the target); zero before.
	firstSent time.Time
	// budgetOut is set once the run's request budget refused a request.
	budgetOut bool
	// solveBits is the hardest proof-of-work challenge the viewer solves
	// (challenge_max_bits); 0: none.
	solveBits int
	// player is a plain HTTP player (client: player): no page to solve a
	// challenge, no waiting-room protocol, no credentials but the cookies
	// the target sets.
	player bool
	// refusals counts the answers that refused the viewer (see refusal).
	refusals int
}

func newClient(env *sim.Env, c sim.Client, p sim.Params, now func() time.Time) *client {
	cl := &client{
		env: env, pop: c.Pop, src: c.Source, now: now,
		timeout:   p.Duration("timeout", 20*time.Second),
		host:      env.Host,
		ua:        p.String("user_agent", "rempart-siege/1"),
		paced:     env.Link.NewReader(now),
		solveBits: min(max(p.Int("challenge_max_bits", defaultChallengeBits), 0), maxChallengeBits),
		player:    p.String("client", clientBrowser) == clientPlayer,
	}
	if cl.player {
		cl.solveBits = 0
	}
	if cl.host == "" {
		cl.host = env.Target.Host
	}
	if env.Target.Scheme == "https" {
		cl.tls = &tls.Config{ServerName: hostOnly(cl.host), InsecureSkipVerify: p.Bool("insecure", false)}
	}
	return cl
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

// do sends r once the budget allows it and records the exchange. A request
// on a kept-alive connection that the target had closed is sent again once
// on a fresh connection (it never reached the target).
func (cl *client) do(ctx context.Context, r *request) (response, error) {
	if !cl.take() {
		return response{}, ErrBudget
	}
	reused := cl.conn != nil
	res, err := cl.roundTrip(ctx, r)
	if err != nil && reused && res.status == 0 && ctx.Err() == nil && !isTimeout(err) {
		if !cl.take() {
			return response{}, ErrBudget
		}
		res, err = cl.roundTrip(ctx, r)
	}
	if err != nil && ctx.Err() != nil {
		return res, err // cut short by the end of the viewer's life, not by the target
	}
	end := cl.now()
	recErr := err
	switch {
	case err == nil && !cl.player && holds(res, end):
		recErr = sim.ErrHeld // the viewer waits and asks again: not a failure
	case err == nil && cl.challenged(res):
		recErr = sim.ErrChallenged // the viewer solves it and asks again
	case err == nil && refusal(r.kind, res):
		cl.refusals++
	}
	cl.env.Rec.Request(cl.pop, r.kind, r.intended, end.Sub(r.intended), res.status, res.n, recErr)
	return res, err
}

// take asks the budget for one request.
func (cl *client) take() bool {
	if cl.env.Budget.Take() {
		return true
	}
	cl.budgetOut = true
	return false
}

// follow sends r and follows the target's redirects (for GET, on the
// target only, at most maxRedirects), as a player's loader does: an edge
// degrading the stream answers a dropped rendition's playlist with a 302
// to a kept one. Every hop is recorded as a request, all from r's intended
// time (the player waited for all of them). res.url is the URL that
// answered.
func (cl *client) follow(ctx context.Context, r *request) (response, error) {
	hop := *r
	for i := 0; ; i++ {
		res, err := cl.do(ctx, &hop)
		res.url = hop.url
		if err != nil || !isRedirect(res.status) || (hop.method != "" && hop.method != http.MethodGet) {
			return res, err
		}
		loc := res.header.Get("Location")
		if loc == "" || i == maxRedirects {
			return res, nil // not a success: the caller counts it as a failure
		}
		u, err := cl.resolve(hop.url, loc)
		if err != nil {
			return res, err
		}
		hop.url = u
	}
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// roundTrip sends r on the connection (opening one if needed) and reads
// the answer. Any error closes the connection.
func (cl *client) roundTrip(ctx context.Context, r *request) (res response, err error) {
	sent := cl.now()
	if cl.firstSent.IsZero() {
		cl.firstSent = sent
	}
	defer func() {
		res.took = cl.now().Sub(sent)
		if err != nil {
			cl.close()
		}
	}()
	if cl.conn == nil {
		if err := cl.dial(ctx); err != nil {
			return res, err
		}
	}
	conn := cl.conn
	conn.SetDeadline(sent.Add(cl.timeout))
	// The callback may still run after stop returns and after close has
	// dropped cl.conn: it must only touch its own copy of the connection.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(aLongTimeAgo) })
	defer stop()
	if _, err := cl.conn.Write(cl.encode(r)); err != nil {
		return res, fmt.Errorf("send %s: %w", r.url.Path, err)
	}
	resp, err := http.ReadResponse(cl.br, nil)
	if err != nil {
		return res, fmt.Errorf("read answer to %s: %w", r.url.Path, err)
	}
	res.status, res.header = resp.StatusCode, resp.Header
	keep := r.keep
	switch resp.StatusCode {
	case http.StatusServiceUnavailable, http.StatusTooManyRequests, http.StatusForbidden, http.StatusUnauthorized:
		keep = max(keep, maxQueueBody)
	}
	var body io.Reader = resp.Body
	if cl.paced != nil {
		cl.paced.Reset(ctx, resp.Body)
		body = cl.paced
	}
	res.body, res.n, err = readBody(body, keep)
	resp.Body.Close()
	cl.jar.set(resp, cl.now())
	if !cl.player {
		cl.keepCredentials(resp.Header)
	}
	if err == nil && resp.Close {
		cl.close()
	}
	if err != nil {
		return res, fmt.Errorf("read body of %s: %w", r.url.Path, err)
	}
	return res, nil
}

// readBody keeps the first keep bytes of body and counts the rest.
func readBody(body io.Reader, keep int) ([]byte, int64, error) {
	var kept []byte
	var err error
	if keep > 0 {
		kept, err = io.ReadAll(io.LimitReader(body, int64(keep)))
		if err != nil {
			return kept, int64(len(kept)), err
		}
	}
	n, err := io.Copy(io.Discard, body)
	return kept, int64(len(kept)) + n, err
}

// dial opens the connection from the viewer's source address.
func (cl *client) dial(ctx context.Context) error {
	dctx, cancel := context.WithTimeout(ctx, cl.timeout)
	defer cancel()
	var conn net.Conn
	var err error
	if cl.env.Dial != nil {
		conn, err = cl.env.Dial(dctx, cl.src)
	} else {
		d := net.Dialer{}
		if cl.src.IsValid() {
			d.LocalAddr = &net.TCPAddr{IP: cl.src.AsSlice()}
		}
		conn, err = d.DialContext(dctx, "tcp", targetAddr(cl.env.Target))
	}
	if err != nil {
		return fmt.Errorf("dial target: %w", err)
	}
	if cl.tls != nil {
		tc := tls.Client(conn, cl.tls)
		if err := tc.HandshakeContext(dctx); err != nil {
			conn.Close()
			return fmt.Errorf("TLS handshake: %w", err)
		}
		conn = tc
	}
	cl.conn = conn
	if cl.br == nil {
		cl.br = bufio.NewReaderSize(conn, readBufferSize)
	} else {
		cl.br.Reset(conn)
	}
	return nil
}

// targetAddr is the host:port to dial for u.
func targetAddr(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// close drops the connection; the next request opens a new one.
func (cl *client) close() {
	if cl.conn != nil {
		cl.conn.Close()
		cl.conn = nil
	}
}

// encode writes r as HTTP/1.1 into the client's reused buffer.
func (cl *client) encode(r *request) []byte {
	b := cl.wbuf[:0]
	method := r.method
	if method == "" {
		method = http.MethodGet
	}
	b = append(b, method...)
	b = append(b, ' ')
	b = append(b, r.url.RequestURI()...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, cl.host...)
	b = header(b, "User-Agent", cl.ua)
	b = header(b, "Accept", "*/*")
	b = header(b, "Range", r.byteRange)
	b = header(b, "Cookie", cl.jar.header(cl.now()))
	b = header(b, ticketHeader, cl.ticket)
	b = header(b, sessionHeader, cl.session)
	if r.body != nil {
		b = header(b, "Content-Type", "application/json")
		b = header(b, "Content-Length", strconv.Itoa(len(r.body)))
	}
	b = append(b, "\r\n\r\n"...)
	b = append(b, r.body...)
	cl.wbuf = b
	return b
}

// header appends "\r\nName: value" when value is not empty.
func header(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	b = append(b, "\r\n"...)
	b = append(b, name...)
	b = append(b, ": "...)
	return append(b, value...)
}

// safeHeaderValue reports whether v can be sent back as a header value.
func safeHeaderValue(v string) bool {
	if len(v) > maxHeaderValue {
		return false
	}
	return !strings.ContainsFunc(v, func(r rune) bool { return r < ' ' || r == 0x7f })
}

// resolve returns ref resolved against base, refusing any URI that leaves
// the target.
func (cl *client) resolve(base *url.URL, ref string) (*url.URL, error) {
	u, err := base.Parse(ref)
	if err != nil {
		return nil, fmt.Errorf("resolve %.60q: %w", ref, err)
	}
	t := cl.env.Target
	if u.Scheme != t.Scheme || u.Host != t.Host {
		return nil, fmt.Errorf("%w: %.60q", ErrOffTarget, ref)
	}
	return u, nil
}
