package challenge

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rempart/rempart/internal/prerender"
	"github.com/rempart/rempart/internal/telemetry"
	"github.com/rempart/rempart/web"
)

// slowAfter is how long the page works before it pauses and offers to keep
// trying. A variable so that tests can see the pause without waiting.
var slowAfter = 20 * time.Second

// PageCSP is the Content-Security-Policy of the challenge page: scripts and
// the worker from this origin only, nothing inline, the form posting here.
const PageCSP = "default-src 'none'; script-src 'self'; worker-src 'self'; style-src 'self'; " +
	"img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// The page's assets, as named in web.Assets() and served under Prefix.
var assetNames = []string{"challenge.js", "challenge-worker.js", "challenge.css"}

// field is a per-request value of the page.
type field uint8

const (
	fieldChallenge field = iota
	fieldDifficulty
	fieldReturn
	fieldRef
	numFields
)

// sentinels stand for the fields when the page is rendered once per
// language; they survive HTML escaping unchanged.
var sentinels = [numFields]string{"RMPRTxCHALLENGEx", "RMPRTxDIFFx", "RMPRTxRETURNx", "RMPRTxREFx"}

// asset is one of the page's files, held in memory.
type asset struct {
	body        []byte
	contentType string
}

// pageData is what challenge.html is executed with.
type pageData struct {
	Lang                       string
	T                          texts
	CSS, JS, Worker, Verify    string
	SlowAfterMS                int64
	Challenge, Difficulty, Ref string
	Return                     string
}

// buildPages loads the assets and renders the page once per language.
func (c *Challenger) buildPages() error {
	assets := web.Assets()
	c.assets = make(map[string]asset, len(assetNames))
	sum := sha256.New()
	for _, name := range assetNames {
		b, err := fs.ReadFile(assets, name)
		if err != nil {
			return fmt.Errorf("challenge: page asset: %w", err)
		}
		ct := "text/javascript; charset=utf-8"
		if strings.HasSuffix(name, ".css") {
			ct = "text/css; charset=utf-8"
		}
		c.assets[name] = asset{body: b, contentType: ct}
		sum.Write(b)
	}
	c.assetVersion = hex.EncodeToString(sum.Sum(nil)[:6])
	tmpl, err := template.ParseFS(assets, "challenge.html")
	if err != nil {
		return fmt.Errorf("challenge: page template: %w", err)
	}
	for l := range numLangs {
		if c.pages[l], err = c.renderPage(tmpl, l); err != nil {
			return err
		}
	}
	return nil
}

func (c *Challenger) renderPage(tmpl *template.Template, l lang) (prerender.Page, error) {
	v := "?v=" + c.assetVersion
	d := pageData{
		Lang: langTags[l], T: pageTexts(l, c.cfg.ClearanceTTL, slowAfter),
		CSS: Prefix + "challenge.css" + v, JS: Prefix + "challenge.js" + v,
		Worker: Prefix + "challenge-worker.js" + v, Verify: VerifyPath,
		SlowAfterMS: slowAfter.Milliseconds(),
		Challenge:   sentinels[fieldChallenge], Difficulty: sentinels[fieldDifficulty],
		Ref: sentinels[fieldRef], Return: sentinels[fieldReturn],
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, d); err != nil {
		return prerender.Page{}, fmt.Errorf("challenge: render page (%s): %w", d.Lang, err)
	}
	p, err := prerender.Split(b.String(), sentinels[:])
	if err != nil {
		return p, fmt.Errorf("challenge: page template (%s): %w", d.Lang, err)
	}
	return p, nil
}

// servePage answers with the challenge page, a fresh challenge in it, that
// returns to ret once solved.
func (c *Challenger) servePage(w http.ResponseWriter, r *http.Request, ret string, status int) {
	client := clientOf(r, clientFromRecord(w))
	now := c.now()
	d := c.Difficulty()
	ch := issue(&c.keys, client, r.Header.Get("User-Agent"), d, now)
	vals := [numFields]string{
		fieldChallenge:  ch,
		fieldDifficulty: strconv.Itoa(d),
		fieldReturn:     template.HTMLEscapeString(ret),
		fieldRef:        now.UTC().Format("20060102-1504") + "-" + ch[2:10],
	}
	p := &c.pages[pickLang(r.Header.Get("Accept-Language"))]
	n := p.Len(vals[:])
	c.stats.Issued.Add(1)
	telemetry.RecordOf(w).Decide(StageName, telemetry.OutcomeRefused, "challenged")
	setPageHeaders(w.Header(), n)
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	p.Write(w, vals[:], nil)
}

func setPageHeaders(h http.Header, length int) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(length))
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", PageCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
}

// serveAsset answers one of the page's files. Asked with the version the
// page names, it may be cached for good; otherwise it is revalidated.
func (c *Challenger) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	a, ok := c.assets[name]
	if !ok {
		telemetry.Refuse(w, StageName, telemetry.OutcomeRefused, "not_found", http.StatusNotFound, "not found", 0)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		refuseMethod(w, "GET, HEAD")
		return
	}
	telemetry.RecordOf(w).Decide(StageName, telemetry.OutcomeHit, "asset")
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Content-Length", strconv.Itoa(len(a.body)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'")
	if r.URL.Query().Get("v") == c.assetVersion {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	if r.Method == http.MethodHead {
		return
	}
	w.Write(a.body)
}
