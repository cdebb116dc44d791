// Package browsertest starts a headless Chromium for tests that drive a
// page as a customer does (the booking page), and writes the screenshots
// the README shows. It is test support: no production package imports it.
//
// The browser is Debian's chromium package (CI installs it): a test on a
// machine without it fails, naming the package, rather than skipping,
// because a skipped browser test is a booking page nobody has tried.
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium package puts its launcher.
const ChromiumPath = "/usr/bin/chromium"

// PhoneWidth and PhoneHeight are the viewport a test browses in: a phone's
// (the page's customers read their texts on one), so the screenshots show
// what they see.
const (
	PhoneWidth  = 412
	PhoneHeight = 915
)

// Timeout bounds one test's browser: a page that never shows what the
// test waits for fails the test instead of hanging the run. Two cores
// running the race detector start Chromium in about two seconds and drive
// the booking page's six scenarios in about fifteen; the margin is for a
// `make test` that runs every package at once.
const Timeout = 5 * time.Minute

// FindChromium returns the Chromium binary: ChromiumPath, else a chromium
// on PATH.
func FindChromium() (string, error) {
	if _, err := os.Stat(ChromiumPath); err == nil {
		return ChromiumPath, nil
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p, nil
	}
	return "", errors.New("no Chromium at " + ChromiumPath + " or on PATH: install Debian's chromium package: apt-get install chromium")
}

// NewBrowser starts a headless Chromium for t and returns a context of
// one tab in it; actions run on it with chromedp.Do and chromedp.Run. The
// browser stops (and its profile is removed) when t ends, or after
// Timeout. The flags keep it from calling out (no background networking,
// component updates or sync) and let it run as root in a container
// (no sandbox) without a GPU.
func NewBrowser(t testing.TB) context.Context {
	t.Helper()
	path, err := FindChromium()
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("hide-scrollbars", true),
	}
	ctx, cancelTimeout := context.WithTimeout(context.Background(), Timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		cancelTimeout()
	})
	// Start the browser now, so that a Chromium that does not start is
	// this line's failure rather than the first navigation's. The phone's
	// viewport is emulated: headless Chromium keeps a window at least 500
	// pixels wide whatever its --window-size.
	if err := chromedp.Do(tabCtx, chromedp.EmulateViewport(PhoneWidth, PhoneHeight)); err != nil {
		t.Fatalf("chromium (%s) did not start: %v", path, err)
	}
	return tabCtx
}

// RepoRoot is the module's root: the nearest directory above the test's
// working directory (its package's directory) that holds go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("working directory: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod above the test's working directory")
		}
		dir = parent
	}
}

// ScreenshotDir is where screenshots go: docs/screenshots at the repo
// root, created when missing. The README links them, so a test run
// refreshes what the README shows.
func ScreenshotDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(RepoRoot(t), "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("screenshot directory: %v", err)
	}
	return dir
}

// CapturePage returns a full-page PNG of the tab's page as it is now.
func CapturePage(ctx context.Context) ([]byte, error) {
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return nil, fmt.Errorf("full-page screenshot: %w", err)
	}
	return png, nil
}

// Screenshot writes a full-page PNG of the tab's page to
// docs/screenshots/name (name ends in .png) and returns its path.
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	png, err := CapturePage(ctx)
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(ScreenshotDir(t), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
	return path
}

// Center scrolls the first element matching the CSS selector into view
// and returns the viewport coordinates of its middle, for
// chromedp.MouseClickXY. A tap at
// coordinates is what a double tap needs: chromedp.Click queries the node
// first, and a query waits for a pending navigation (the first tap's) to
// load, so a second Click would land on the next page, never on the form
// the customer tapped twice.
func Center(ctx context.Context, selector string) (x, y float64, err error) {
	quoted, err := json.Marshal(selector)
	if err != nil {
		return 0, 0, err
	}
	xy, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => {
		const e = document.querySelector(`+string(quoted)+`);
		if (!e) return [];
		e.scrollIntoView({block: "center"});
		const r = e.getBoundingClientRect();
		return [r.x + r.width / 2, r.y + r.height / 2];
	})()`))
	if err != nil {
		return 0, 0, fmt.Errorf("center of %s: %w", selector, err)
	}
	if len(xy) != 2 {
		return 0, 0, fmt.Errorf("center of %s: no such element", selector)
	}
	return xy[0], xy[1], nil
}
