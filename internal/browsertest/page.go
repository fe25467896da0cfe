package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Navigate loads url in the tab of ctx and waits for its load event.
func Navigate(t testing.TB, ctx context.Context, url string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("browsertest: navigate to %s: %v", url, err)
	}
}

// Eval evaluates the JavaScript expression expr in the page and returns its
// value decoded from JSON into T; a promise is awaited. A null or undefined
// result fails the test unless T can be nil (a pointer, slice, map or any).
func Eval[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	v, err := eval[T](ctx, expr)
	if err != nil {
		t.Fatalf("browsertest: eval %s: %v", expr, err)
	}
	return v
}

func eval[T any](ctx context.Context, expr string) (T, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// PollEvery is how often WaitFor evaluates its condition.
const PollEvery = 100 * time.Millisecond

// WaitFor evaluates the JavaScript expression cond until it is truthy, and
// fails the test if it is not within timeout. To explain the failure, the
// expressions in explain are evaluated then and their values printed.
func WaitFor(t testing.TB, ctx context.Context, cond string, timeout time.Duration, explain ...string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := eval[bool](ctx, "Boolean("+cond+")")
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("browsertest: %s still false after %v%s%s", cond, timeout, lastError(err), describe(ctx, explain))
		}
		select {
		case <-ctx.Done():
			t.Fatalf("browsertest: wait for %s: %v", cond, ctx.Err())
		case <-time.After(PollEvery):
		}
	}
}

func lastError(err error) string {
	if err == nil {
		return ""
	}
	return fmt.Sprintf(" (last error: %v)", err)
}

func describe(ctx context.Context, exprs []string) string {
	var b strings.Builder
	for _, expr := range exprs {
		v, err := eval[any](ctx, expr)
		if err != nil {
			fmt.Fprintf(&b, "\n\t%s: %v", expr, err)
		} else {
			fmt.Fprintf(&b, "\n\t%s = %v", expr, v)
		}
	}
	return b.String()
}

// Text returns the text content of the first element that matches the CSS
// selector sel, and fails the test if none does.
func Text(t testing.TB, ctx context.Context, sel string) string {
	t.Helper()
	expr := fmt.Sprintf("document.querySelector(%q)?.textContent ?? null", sel)
	s, err := eval[*string](ctx, expr)
	if err == nil && s == nil {
		err = errors.New("no element matches")
	}
	if err != nil {
		t.Fatalf("browsertest: text of %s: %v", sel, err)
	}
	return *s
}

// Screenshot saves a PNG of the tab's viewport to path, creating its
// directory, and logs where it went.
func Screenshot(t testing.TB, ctx context.Context, path string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err == nil {
		err = os.MkdirAll(filepath.Dir(path), 0o755)
	}
	if err == nil {
		err = os.WriteFile(path, png, 0o644)
	}
	if err != nil {
		t.Fatalf("browsertest: screenshot to %s: %v", path, err)
	}
	t.Logf("screenshot: %s", path)
}
