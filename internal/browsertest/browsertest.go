// Package browsertest drives Debian's headless Chromium from tests, through
// chromedp, so pages the edge serves are checked the way a viewer sees them:
// scripts run, media plays, layout renders.
//
// Each helper takes the test and fails it with a precise message, so a test
// reads as a list of steps:
//
//	ctx := browsertest.New(t)
//	browsertest.Navigate(t, ctx, srv.URL+"/_rempart/demo.html")
//	browsertest.WaitFor(t, ctx, "window.rempartDemo.playing", 20*time.Second)
//	browsertest.Screenshot(t, ctx, filepath.Join(dir, "demo.png"))
package browsertest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium package installs the browser. The
// environment variable REMPART_CHROMIUM, when set, names another binary.
const ChromiumPath = "/usr/bin/chromium"

// MaxLifetime bounds how long one browser lives, so that a hung page fails
// its test instead of waiting for go test's global timeout.
const MaxLifetime = 3 * time.Minute

// Width and Height are the size of the page's viewport in CSS pixels, and so
// of its screenshots.
const (
	Width  = 1280
	Height = 800
)

// New starts a fresh headless Chromium with a temporary profile and returns a
// context bound to its first tab, for the other helpers. When the test ends
// the browser is closed and its profile removed, and if the test failed what
// the page wrote to its console is logged. Without Chromium, New skips the
// test under -short and fails it otherwise.
func New(t testing.TB) context.Context {
	t.Helper()
	path := execPath()
	if _, err := os.Stat(path); err != nil {
		if testing.Short() {
			t.Skipf("browsertest: no Chromium (-short): %v", err)
		}
		t.Fatalf("browsertest: no Chromium: %v (install Debian's chromium, or set REMPART_CHROMIUM)", err)
	}
	// The timeout is on the allocator's parent on purpose: it ends the whole
	// browser, not one action.
	ctx, cancel := context.WithTimeout(context.Background(), MaxLifetime)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, options(path, t.TempDir())...)
	bctx, cancelTab := chromedp.NewContext(actx)
	// Cleanups run last-in first-out: the browser exits before t.TempDir
	// removes its profile.
	t.Cleanup(func() {
		cancelTab() // closes the browser and waits for its process
		cancelAlloc()
		cancel()
	})
	// The first action starts the browser, which lives as long as that
	// action's context: so bctx, never a shorter one.
	// The window size includes the browser's own frame; the emulated
	// viewport makes the page's size, and so the screenshots', exact.
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(Width, Height)); err != nil {
		t.Fatalf("browsertest: start %s: %v", path, err)
	}
	rec := record(bctx)
	t.Cleanup(func() {
		rec.stop()
		if t.Failed() {
			for _, m := range rec.messages() {
				t.Logf("browser console: %s", m)
			}
		}
	})
	return context.WithValue(bctx, recorderKey{}, rec)
}

func execPath() string {
	if p := os.Getenv("REMPART_CHROMIUM"); p != "" {
		return p
	}
	return ChromiumPath
}

// options are the flags of a quiet, reproducible browser: no traffic of its
// own (updates, sync, QUIC probes), no GPU, media allowed to autoplay.
// --no-sandbox is needed where tests run as root or inside containers.
func options(path, profile string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(Width, Height),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
	}
}
