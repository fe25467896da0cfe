package waitpage

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/goleak"
	"golang.org/x/net/html"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// render renders v for a GET with the given Accept-Language.
func render(t testing.TB, acceptLanguage string, v View) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/live/master.m3u8", nil)
	if acceptLanguage != "" {
		r.Header.Set("Accept-Language", acceptLanguage)
	}
	w := httptest.NewRecorder()
	Render(w, r, v, http.StatusServiceUnavailable)
	return w
}

// doc parses a rendered page.
func doc(t testing.TB, body string) *html.Node {
	t.Helper()
	n, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse page: %v", err)
	}
	return n
}

// find returns the elements under n for which match is true, in document
// order.
func find(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for c := range n.Descendants() {
		if c.Type == html.ElementNode && match(c) {
			out = append(out, c)
		}
	}
	return out
}

// byID returns the element with the given id, failing the test if none.
func byID(t testing.TB, n *html.Node, id string) *html.Node {
	t.Helper()
	els := find(n, func(c *html.Node) bool { return attr(c, "id") == id })
	if len(els) != 1 {
		t.Fatalf("%d elements with id %q, want 1", len(els), id)
	}
	return els[0]
}

// attr returns the value of n's attribute key, unescaped, or "".
func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// text returns the text inside n.
func text(n *html.Node) string {
	var b strings.Builder
	for c := range n.Descendants() {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}
