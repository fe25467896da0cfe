package waitpage

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"strings"

	"github.com/rempart/rempart/internal/httplang"
	"github.com/rempart/rempart/internal/prerender"
)

//go:embed page.html page.css page.js
var files embed.FS

// field is a per-request value of the page.
type field uint8

const (
	fieldRefresh field = iota
	fieldStatusURL
	fieldReturn
	fieldRetry
	fieldPos
	fieldLine1
	fieldLine2
	fieldTicket
	numFields
)

// sentinels stand for the fields when page.html is executed once per
// language at init; they survive its escaping unchanged in every context.
var sentinels = [numFields]string{
	"RMPRTxREFRESHx", "RMPRTxSTATUSx", "RMPRTxRETURNx", "RMPRTxRETRYx",
	"RMPRTxPOSx", "RMPRTxLINEONEx", "RMPRTxLINETWOx", "RMPRTxTICKETx",
}

// page is the waiting page in one language, split around its fields so
// that serving it is a few copies, not a template execution: html/template
// costs tens of microseconds and a hundred allocations a page.
type page struct {
	lang string
	t    *texts
	csp  string // allows exactly this page's script and style
	prerender.Page
}

// langs are the page's languages, the first the default; pages is in the
// same order.
var (
	langs = []string{"en", "fr"}
	pages = mustPages(map[string]*texts{"en": &english, "fr": &french})
)

// pageFor returns the page in the language an Accept-Language header
// prefers.
func pageFor(acceptLanguage string) *page {
	tag := httplang.Pick(acceptLanguage, langs...)
	for i := range pages {
		if pages[i].lang == tag {
			return &pages[i]
		}
	}
	return &pages[0]
}

// escaper escapes a field for HTML text and quoted attributes alike.
var escaper = strings.NewReplacer("&", "&amp;", "'", "&#39;", "<", "&lt;", ">", "&gt;", `"`, "&#34;")

// write writes the page with vals in its fields, escaped, to b.
func (p *page) write(b *bytes.Buffer, vals *[numFields]string) {
	p.Write(b, vals[:], escaper)
}

// mustPages builds the page in each of langs. It fails only if the
// embedded files are broken, which every test run would show: so it
// panics, at init.
func mustPages(words map[string]*texts) []page {
	tmpl, err := template.ParseFS(files, "page.html")
	if err != nil {
		panic("waitpage: parse page.html: " + err.Error())
	}
	css, err := files.ReadFile("page.css")
	if err != nil {
		panic("waitpage: " + err.Error())
	}
	ps := make([]page, len(langs))
	for i, lang := range langs {
		if ps[i], err = newPage(tmpl, string(css), lang, words[lang]); err != nil {
			panic("waitpage: " + err.Error())
		}
	}
	return ps
}

// newPage renders tmpl in one language, sentinels in its fields, and splits
// it around them.
func newPage(tmpl *template.Template, css, lang string, t *texts) (page, error) {
	js, err := script(t)
	if err != nil {
		return page{}, err
	}
	d := map[string]any{"Lang": lang, "T": t, "CSS": template.CSS(css), "JS": template.JS(js)}
	for f, s := range sentinels {
		d[fieldNames[f]] = s
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, d); err != nil {
		return page{}, fmt.Errorf("render page (%s): %w", lang, err)
	}
	pp, err := prerender.Split(b.String(), sentinels[:])
	if err != nil {
		return page{}, fmt.Errorf("page.html (%s): %w", lang, err)
	}
	return page{lang: lang, t: t, csp: policy(js, css), Page: pp}, nil
}

// fieldNames are the template's names for the fields.
var fieldNames = [numFields]string{"Refresh", "StatusURL", "Return", "Retry", "Position", "Line1", "Line2", "Ticket"}

// script is page.js with the texts of the page built in.
func script(t *texts) (string, error) {
	js, err := files.ReadFile("page.js")
	if err != nil {
		return "", err
	}
	words, err := json.Marshal(t)
	if err != nil {
		return "", fmt.Errorf("texts: %w", err)
	}
	// json.Marshal escapes <, > and &, so the texts cannot end the script.
	return "const T=" + string(words) + ";\n" + compact(string(js)), nil
}

// compact drops the comments, blank lines and indentation of page.js, a
// third of its size. It relies on how page.js is written: no comment after
// code on a line, no string or template literal across lines.
func compact(js string) string {
	var b strings.Builder
	for line := range strings.Lines(js) {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "//") {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// policy is the page's Content-Security-Policy: its own inline script and
// style by hash, requests to this origin only, nothing else.
func policy(js, css string) string {
	return "default-src 'none'; script-src " + hash(js) + "; style-src " + hash(css) +
		"; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'" +
		"; require-trusted-types-for 'script'"
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}
