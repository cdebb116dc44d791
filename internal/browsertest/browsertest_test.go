package browsertest_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/browsertest"
)

// TestNewBrowser: the browser starts headless, at a phone's width, loads a
// page, takes keyboard input and captures the page as a PNG.
func TestNewBrowser(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, `<!doctype html><meta name="viewport" content="width=device-width,initial-scale=1">
<title>browsertest</title><form><label><input type="checkbox" id="c"> Tick</label></form><h1 id="h">Hello</h1>`)
	}))
	t.Cleanup(srv.Close)
	ctx := browsertest.NewBrowser(t)

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL), chromedp.WaitVisible(chromedp.ID("h"))))
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("h")))
	require.NoError(t, err)
	require.Equal(t, "Hello", text)
	width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.innerWidth`))
	require.NoError(t, err)
	require.Equal(t, browsertest.PhoneWidth, width)

	require.NoError(t, chromedp.Do(ctx, chromedp.KeyEvent("\t"), chromedp.KeyEvent(" ")))
	checked, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("c").checked`))
	require.NoError(t, err)
	require.True(t, checked, "Tab reaches the checkbox and Space ticks it")

	png, err := browsertest.CapturePage(ctx)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")), "a PNG")
}

// TestScreenshotDir: screenshots go to docs/screenshots at the module's
// root, found from the package's directory.
func TestScreenshotDir(t *testing.T) {
	t.Parallel()
	dir := browsertest.ScreenshotDir(t)
	require.Equal(t, "screenshots", filepath.Base(dir))
	_, err := os.Stat(filepath.Join(filepath.Dir(filepath.Dir(dir)), "go.mod"))
	require.NoError(t, err, "docs/ sits beside go.mod")
}

// TestFindChromium: this machine (and CI) has Debian's chromium.
func TestFindChromium(t *testing.T) {
	t.Parallel()
	path, err := browsertest.FindChromium()
	require.NoError(t, err)
	require.FileExists(t, path)
}
