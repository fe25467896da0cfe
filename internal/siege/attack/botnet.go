package attack

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"time"

	"github.com/rempart/rempart/internal/hls"
	"github.com/rempart/rempart/internal/siege/sim"
)

// botnet is the low-and-slow attack: thousands of bots, each from its own
// source address (the runner gives every client its own Client.Source),
// each sending a few requests far apart, so that no address crosses a
// per-IP limit and only the aggregate gives it away.
//
// Params:
//   - requests: requests per bot (3).
//   - interval: between a bot's requests ("5s", ±10% jitter).
//   - path: a list of path templates, one drawn per request
//     ([/live/master.m3u8]); a single string is accepted too. A template
//     draws {rand} (16 random hex digits) and {a|b} (one alternative)
//     anew for each request: /live/{240p|360p}/x{rand}.ts?cb={rand} asks
//     segment names no playlist lists (template.go).
//   - listed: instead of path, the master playlist of a live stream
//     (/live/master.m3u8): each bot reads it, follows one rendition's
//     media playlist and asks the segments it lists (listed.go): objects
//     the stream really lists, at the bots' rate.
//   - playlists (with listed): the share of requests, beyond the bot's
//     own refreshes, for a playlist rather than a segment (0).
//   - fingerprint: fixed (default) — every bot sends the same
//     User-Agent and header set in the same order, as a cheap botnet does;
//     rotating — each bot picks one of several real browser and app
//     fingerprints, each with its own header order; viewer — the very
//     request of siege's own viewer models (Host, User-Agent, Accept in
//     that order, user_agent defaulting to theirs): a botnet the edge
//     cannot tell from the crowd by its requests.
//   - user_agent: the User-Agent in fixed mode (a desktop Chrome).
//   - timeout: per request ("10s").
//   - insecure: skip TLS verification on https:// targets (false).
//
// Requests are written by hand: net/http sorts headers, which would give
// every fingerprint the same order.
type botnet struct{}

// maxPlaylist bounds the playlist body a listed bot reads.
const maxPlaylist = hls.MaxSize

// CheckParams implements sim.ParamChecker: the fingerprint mode, the path
// templates, and listed and path not both given.
func (botnet) CheckParams(p sim.Params) error {
	_, err := botConfig(p)
	return err
}

// botSetup is what every bot of a population shares, read from Params.
type botSetup struct {
	mode   string
	paths  []template
	listed string // master playlist path, "" without listed
	share  float64
}

// botConfig reads and checks a botnet population's Params.
func botConfig(p sim.Params) (botSetup, error) {
	b := botSetup{mode: p.String("fingerprint", "fixed"), listed: p.String("listed", ""), share: p.Float("playlists", 0)}
	switch b.mode {
	case "fixed", "rotating", "viewer":
	default:
		return b, fmt.Errorf("botnet: fingerprint %q: want fixed, rotating or viewer", b.mode)
	}
	if v, ok := p["listed"]; ok && (b.listed == "" || !strings.HasPrefix(b.listed, "/")) {
		return b, fmt.Errorf("botnet: listed %v: want the path of a live master playlist, such as /live/master.m3u8", v)
	}
	if _, ok := p["path"]; ok && b.listed != "" {
		return b, errors.New("botnet: path and listed given: listed asks what the stream lists, path what it names; give one")
	}
	if !(b.share >= 0 && b.share <= 1) {
		return b, fmt.Errorf("botnet: playlists %v: want a share from 0 to 1", p["playlists"])
	}
	var err error
	if b.paths, err = parseTemplates(botPaths(p)); err != nil {
		return b, fmt.Errorf("botnet: path: %w", err)
	}
	return b, nil
}

// print is the population's fingerprint mode made into one bot's.
func (b botSetup) print(p sim.Params) fingerprint {
	switch b.mode {
	case "rotating":
		return fingerprints[rand.IntN(len(fingerprints))]
	case "viewer":
		return viewerPrint(p.String("user_agent", viewerUA))
	}
	return fixedPrint(p.String("user_agent", defaultFloodUA))
}

// asker returns what one bot asks for.
func (b botSetup) asker(t *target) asker {
	if b.listed != "" {
		return &listed{master: t.path(b.listed), share: b.share, host: t.host}
	}
	return &drawn{prefix: t.prefix, paths: b.paths}
}

// Run is one bot's life.
func (botnet) Run(ctx context.Context, env *sim.Env, c sim.Client) {
	p := params(env, c)
	t, err := newTarget(env, p, "http/1.1")
	var setup botSetup
	if err == nil {
		setup, err = botConfig(p)
	}
	if err != nil {
		env.Rec.Request(c.Pop, sim.KindAttack, intended(env, c), 0, 0, 0, err)
		return
	}
	b := bot{env: env, c: c, t: t, fp: setup.print(p), ask: setup.asker(t),
		timeout: p.Duration("timeout", defaultTimeout)}
	defer b.close()
	n := min(max(p.Int("requests", 3), 0), 10_000)
	every := p.Duration("interval", 5*time.Second)
	start := intended(env, c)
	for i := range n {
		if i > 0 {
			if !sleep(ctx, jitter(every)) {
				return
			}
			start = now(env)
		}
		if ctx.Err() != nil || !take(env) {
			return
		}
		r, err := b.do(ctx)
		env.Rec.Request(c.Pop, sim.KindAttack, start, now(env).Sub(start), r.status, r.bytes, err)
	}
}

// botPaths reads "path" as a list or a single string.
func botPaths(p sim.Params) []string {
	if s, ok := p["path"].(string); ok {
		return []string{s}
	}
	if ps := p.Strings("path", nil); len(ps) > 0 {
		return ps
	}
	return []string{defaultHotPath}
}

// jitter spreads d by ±10%, so bots do not march in step.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d - d/10 + rand.N(d/5+1)
}

// bot is one bot's keep-alive connection and identity.
type bot struct {
	env     *sim.Env
	c       sim.Client
	t       *target
	fp      fingerprint
	ask     asker
	timeout time.Duration

	conn, raw net.Conn // nil until the first request, and after a close
	br        *bufio.Reader
	buf, path []byte
	body      sink
}

// do sends one request on the bot's connection, dialing it if needed.
func (b *bot) do(ctx context.Context) (response, error) {
	if b.conn == nil {
		c, raw, err := b.t.dial(ctx, b.env, b.c.Source)
		if err != nil {
			return response{}, orCtx(ctx, err)
		}
		b.conn, b.raw, b.br = c, raw, bufio.NewReaderSize(c, readBufSize)
	}
	var keep bool
	b.path, keep = b.ask.next(b.path[:0], now(b.env))
	b.buf = b.fp.appendRequest(b.buf[:0], b.path, b.t.host)
	if err := b.conn.SetDeadline(time.Now().Add(b.timeout)); err != nil {
		b.close()
		return response{}, err
	}
	// The callback may run after close has dropped b.raw: it closes its
	// own copy of the connection.
	raw := b.raw
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()
	if _, err := b.conn.Write(b.buf); err != nil {
		b.close()
		return response{}, fmt.Errorf("write request: %w", orCtx(ctx, err))
	}
	var into *sink
	if keep {
		b.body = sink{buf: b.body.buf[:0], max: maxPlaylist}
		into = &b.body
	}
	r, err := readResponseInto(b.br, into)
	if err != nil || !r.keep {
		b.close()
	}
	if err != nil {
		return r, orCtx(ctx, err)
	}
	if keep && r.status == 200 {
		b.ask.got(b.body.buf, now(b.env))
	}
	return r, nil
}

func (b *bot) close() {
	if b.conn != nil {
		b.raw.Close()
		b.conn, b.raw, b.br = nil, nil, nil
	}
}

// fingerprint is a client's header set and order; "Host" marks where the
// Host header goes.
type fingerprint struct {
	name    string
	headers [][2]string
}

// appendRequest writes a GET for path in the fingerprint's order.
func (f fingerprint) appendRequest(dst, path []byte, host string) []byte {
	dst = append(append(append(dst, "GET "...), path...), " HTTP/1.1\r\n"...)
	for _, h := range f.headers {
		v := h[1]
		if h[0] == "Host" {
			v = host
		}
		dst = append(append(append(append(dst, h[0]...), ": "...), v...), "\r\n"...)
	}
	return append(dst, "\r\n"...)
}

// fixedPrint is the one fingerprint of a cheap botnet.
func fixedPrint(ua string) fingerprint {
	return fingerprint{name: "fixed", headers: [][2]string{
		{"Host", ""}, {"User-Agent", ua}, {"Accept", "*/*"}, {"Connection", "keep-alive"},
	}}
}

// viewerUA is the User-Agent of siege's viewer models.
const viewerUA = "rempart-siege/1"

// viewerPrint is the request of siege's viewer models (viewer.client.encode;
// the viewer package's TestRequestIsTheBotsViewerPrint holds them together).
func viewerPrint(ua string) fingerprint {
	return fingerprint{name: "viewer", headers: [][2]string{{"Host", ""}, {"User-Agent", ua}, {"Accept", "*/*"}}}
}

// fingerprints are real clients of a streaming platform, as they order
// their headers over HTTP/1.1.
var fingerprints = []fingerprint{
	{"chrome-desktop", [][2]string{
		{"Host", ""}, {"Connection", "keep-alive"},
		{"sec-ch-ua", `"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"`},
		{"sec-ch-ua-mobile", "?0"}, {"sec-ch-ua-platform", `"Windows"`},
		{"User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"},
		{"Accept", "*/*"}, {"Origin", "https://www.example.tv"},
		{"Sec-Fetch-Site", "same-site"}, {"Sec-Fetch-Mode", "cors"}, {"Sec-Fetch-Dest", "empty"},
		{"Referer", "https://www.example.tv/"},
		{"Accept-Encoding", "gzip, deflate, br, zstd"}, {"Accept-Language", "fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7"},
	}},
	{"firefox-desktop", [][2]string{
		{"Host", ""},
		{"User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"},
		{"Accept", "*/*"}, {"Accept-Language", "en-GB,en;q=0.5"}, {"Accept-Encoding", "gzip, deflate, br"},
		{"Origin", "https://www.example.tv"}, {"Connection", "keep-alive"},
		{"Referer", "https://www.example.tv/"},
		{"Sec-Fetch-Dest", "empty"}, {"Sec-Fetch-Mode", "cors"}, {"Sec-Fetch-Site", "same-site"},
	}},
	{"safari-ios", [][2]string{
		{"Host", ""}, {"Accept", "*/*"}, {"Sec-Fetch-Site", "same-site"},
		{"Accept-Language", "fr-FR,fr;q=0.9"}, {"Accept-Encoding", "gzip, deflate, br"},
		{"Sec-Fetch-Mode", "cors"}, {"Origin", "https://www.example.tv"},
		{"User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"},
		{"Referer", "https://www.example.tv/"}, {"Sec-Fetch-Dest", "empty"}, {"Connection", "keep-alive"},
	}},
	{"exoplayer-android", [][2]string{
		{"User-Agent", "ExampleTV/8.12.0 (Linux;Android 14) ExoPlayerLib/2.19.1"},
		{"Accept-Encoding", "identity"}, {"Host", ""}, {"Connection", "Keep-Alive"},
	}},
	{"avplayer-tvos", [][2]string{
		{"Host", ""}, {"X-Playback-Session-Id", "6F1C2A7E-0B4D-4C3A-9E51-2D8B7F0A1C33"},
		{"Accept", "*/*"},
		{"User-Agent", "AppleCoreMedia/1.0.0.21L569 (Apple TV; U; CPU OS 17_4 like Mac OS X; fr_fr)"},
		{"Accept-Language", "fr-FR,fr;q=0.9"}, {"Accept-Encoding", "identity"}, {"Connection", "keep-alive"},
	}},
	{"tizen-smarttv", [][2]string{
		{"Host", ""}, {"Connection", "keep-alive"}, {"Accept", "*/*"},
		{"User-Agent", "Mozilla/5.0 (SMART-TV; LINUX; Tizen 7.0) AppleWebKit/537.36 (KHTML, like Gecko) 94.0.4606.31/7.0 TV Safari/537.36"},
		{"Accept-Encoding", "gzip, deflate"}, {"Accept-Language", "de-DE,de;q=0.9"},
	}},
}
