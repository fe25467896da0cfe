package web_test

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/rempart/rempart/web"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestAssets(t *testing.T) {
	assets := web.Assets()
	for _, name := range []string{"demo.html", "demo.js", "demo.css"} {
		b, err := fs.ReadFile(assets, name)
		if err != nil {
			t.Fatalf("Assets: %v", err)
		}
		if len(b) == 0 {
			t.Errorf("Assets: %s is empty", name)
		}
	}
	if _, err := fs.Stat(assets, "static"); err == nil {
		t.Errorf("Assets has a static/ directory: want the directory's contents at the root")
	}
}

var (
	scriptTag   = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`)
	inlineEvent = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
	remoteURL   = regexp.MustCompile(`(?i)(src|href)\s*=\s*"(https?:)?//`)
)

// TestDemoPageCSP checks what a Content-Security-Policy of script-src 'self'
// needs, without a browser: no inline script, no inline event handler, no
// style attribute, nothing from another origin.
func TestDemoPageCSP(t *testing.T) {
	b, err := fs.ReadFile(web.Assets(), "demo.html")
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	for _, m := range scriptTag.FindAllStringSubmatch(html, -1) {
		if !strings.Contains(m[1], "src=") || strings.TrimSpace(m[2]) != "" {
			t.Errorf("inline script: %s", m[0])
		}
	}
	if m := inlineEvent.FindString(html); m != "" {
		t.Errorf("inline event handler: %q", m)
	}
	if strings.Contains(html, "style=") {
		t.Errorf("style attribute: blocked by style-src 'self'")
	}
	if m := remoteURL.FindString(html); m != "" {
		t.Errorf("asset from another origin: %q", m)
	}
	for _, src := range []string{`src="vendor/hls.min.js"`, `src="demo.js"`, `href="demo.css"`} {
		if !strings.Contains(html, src) {
			t.Errorf("demo.html lacks %s (relative, so the page works under any mount)", src)
		}
	}
}
