package browsertest_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/rempart/rempart/internal/browsertest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const page = `<!doctype html><title>t</title><p id="msg">waiting</p><script src="page.js"></script>`

const script = `console.log("hello from the page");
setTimeout(() => { document.getElementById("msg").textContent = "ready"; window.answer = 42; }, 200);`

func TestHelpers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/page.js" {
			w.Header().Set("Content-Type", "text/javascript")
			w.Write([]byte(script))
			return
		}
		w.Write([]byte(page))
	}))
	defer srv.Close()

	ctx := browsertest.New(t)
	browsertest.Navigate(t, ctx, srv.URL+"/")
	browsertest.WaitFor(t, ctx, "window.answer === 42", 10*time.Second, "window.answer")
	if got := browsertest.Eval[int](t, ctx, "window.answer + 1"); got != 43 {
		t.Errorf("Eval = %d, want 43", got)
	}
	if got := browsertest.Eval[string](t, ctx, "Promise.resolve('awaited')"); got != "awaited" {
		t.Errorf("Eval of a promise = %q, want its value", got)
	}
	if got := browsertest.Text(t, ctx, "#msg"); got != "ready" {
		t.Errorf("Text = %q, want ready", got)
	}
	if got := browsertest.Eval[[]int](t, ctx, "[innerWidth, innerHeight]"); !slices.Equal(got, []int{browsertest.Width, browsertest.Height}) {
		t.Errorf("viewport = %v, want %dx%d", got, browsertest.Width, browsertest.Height)
	}
	if !slices.ContainsFunc(browsertest.Messages(ctx), func(m string) bool {
		return strings.HasPrefix(m, "log: hello from the page")
	}) {
		t.Errorf("Messages = %q, want the page's console.log", browsertest.Messages(ctx))
	}

	shot := filepath.Join(t.TempDir(), "sub", "page.png")
	browsertest.Screenshot(t, ctx, shot)
	b, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("screenshot is not a PNG: % x", b[:min(8, len(b))])
	}
}
