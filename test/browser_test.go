package test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// firstLoadBudget is the most the instrument page may transfer on its
// first load (the serve issue's figure).
const firstLoadBudget = 200 << 10

// chromium finds a Chromium (or Chrome) to drive, or skips the test: a
// machine with only Go still runs `go test ./...`; CI installs Chromium.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	t.Skip("Chromium is not installed, so the browser test cannot run here; install it with `apt-get install -y chromium` (.ci/run does)")
	return ""
}

// browser starts a headless Chromium for the test and returns a tab.
func browser(t *testing.T, exe string) context.Context {
	t.Helper()
	return browserSized(t, exe, 1280, 1000)
}

// browserSized starts a headless Chromium with a window of width by height
// pixels and returns a tab; the browser ends with the test.
func browserSized(t *testing.T, exe string, width, height int) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // CI runs as root in a container, where Chromium's sandbox cannot start
		chromedp.WindowSize(width, height),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	return ctx
}

// TestBrowserInstrumentPage opens the BABA page of the demo store in real
// headless Chromium: it reads the card as of Thursday 11 September 2025,
// checks the first load stays under its budget, moves the as-of date and
// sees the card change, sees a write by another process arrive live, and
// saves screenshots at laptop and phone widths that it checks are not blank.
func TestBrowserInstrumentPage(t *testing.T) {
	skipShort(t, "drives a headless browser")
	t.Parallel()
	exe := chromium(t)
	c := newCLI(t)
	store := demoStore(t, c)
	s := startServe(t, c, "--store", store)
	ctx := browser(t, exe)

	// The first action starts the browser, which lives as long as ctx: no
	// timeout on it; the rest are bounded.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(s.url+"/instruments/BABA?as_of=2025-09-11")))
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	waitForPage(t, ctx, "2025-09-11T23:59:59.999999999Z")

	card := readCard(t, ctx)
	assert.Equal(t, "18", card["analysts"])
	assert.Equal(t, "17", card["buy"])
	assert.Equal(t, "1", card["hold"])
	assert.Equal(t, "0", card["sell"])
	assert.Equal(t, "165.69 USD", card["mean-target"])
	assert.Equal(t, "155.44 on 11 Sep 2025", card["close"])
	assert.Equal(t, "6.59 %", card["upside"])
	assert.Equal(t, "Strong Buy", card["label"])
	explained, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#explain tbody tr.status-counted').length`))
	require.NoError(t, err)
	assert.Equal(t, 18, explained, "the explain table lists the 18 analysts counted")

	t.Run("first load under budget", func(t *testing.T) {
		sizes, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]float64](`Object.fromEntries(
			performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
				.map((e) => [e.name.replace(location.origin, ''), e.transferSize]))`))
		require.NoError(t, err)
		total := 0.0
		for name, n := range sizes {
			t.Logf("%8.0f bytes  %s", n, name)
			total += n
		}
		t.Logf("%8.0f bytes in all, of a budget of %d", total, firstLoadBudget)
		assert.Greater(t, total, 0.0, "Chromium reports the transfer sizes")
		assert.Less(t, total, float64(firstLoadBudget))
	})

	shots := screenshotDir(t)
	laptop := screenshot(t, ctx, filepath.Join(shots, "baba-laptop.png"))
	assert.Equal(t, 1280, laptop.Bounds().Dx())

	t.Run("moving the as-of date changes the card", func(t *testing.T) {
		require.NoError(t, chromedp.Do(ctx,
			chromedp.SetValue(chromedp.CSS("#as-of"), "2025-09-12"),
			chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := chromedp.Evaluate[bool](`document.getElementById('as-of').dispatchEvent(new Event('change', {bubbles: true}))`)(ctx, tg)
				return err
			})))
		waitForPage(t, ctx, "2025-09-12T23:59:59.999999999Z")
		friday := readCard(t, ctx)
		assert.Equal(t, "152.98 on 12 Sep 2025", friday["close"])
		assert.Equal(t, "8.31 %", friday["upside"])
		assert.Equal(t, "165.69 USD", friday["mean-target"])
		where, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.search`))
		require.NoError(t, err)
		assert.Equal(t, "?as_of=2025-09-12", where, "the address keeps the date, to share or bookmark")
	})

	t.Run("a new event arrives live", func(t *testing.T) {
		c.ok(t, "rate", "BABA", "--analyst", "live@e2e", "--rating", "sell", "--target", "120", "--currency", "USD",
			"--at", "2025-09-12T12:00:00Z", "--store", store)
		err := waitFor(ctx, `document.getElementById('card-sell').textContent === '1'`, 20*time.Second)
		require.NoError(t, err, "the card shows the other process's rating without a reload")
		assert.Equal(t, "19", readCard(t, ctx)["analysts"])
	})

	t.Run("the overview sorts", func(t *testing.T) {
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(s.url+"/?as_of=2025-09-11")))
		first := func() string {
			t.Helper()
			name, err := chromedp.Run(ctx, chromedp.Poll[string](
				`document.querySelector('#overview-table tbody tr td a')?.textContent`, chromedp.WithPollingTimeout(20*time.Second)))
			require.NoError(t, err)
			return name
		}
		assert.Equal(t, "9988.HK", first(), "by symbol at first")
		require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`th[data-key="upside_pct"] button`))))
		assert.Equal(t, "BABA", first(), "lowest upside first")
		require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`th[data-key="upside_pct"] button`))))
		assert.Equal(t, "9988.HK", first(), "then highest first")
	})

	t.Run("readable on a phone", func(t *testing.T) {
		require.NoError(t, chromedp.Do(ctx,
			chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch),
			chromedp.Navigate(s.url+"/instruments/BABA?as_of=2025-09-11")))
		waitForPage(t, ctx, "2025-09-11T23:59:59.999999999Z")
		fits, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
		require.NoError(t, err)
		assert.True(t, fits, "the page does not scroll sideways; wide tables scroll in their own box")
		phone := screenshot(t, ctx, filepath.Join(shots, "baba-phone.png"))
		assert.Equal(t, 390, phone.Bounds().Dx())
	})
}

// waitForPage waits until the card shows the consensus as of asOf and both
// charts are drawn.
func waitForPage(t *testing.T, ctx context.Context, asOf string) {
	t.Helper()
	err := waitFor(ctx, `(() => {
		const card = document.getElementById('card');
		const charts = [...document.querySelectorAll('.chart img')];
		return card.dataset.state === 'ready' && card.dataset.asOf === '`+asOf+`' &&
			charts.every((img) => img.src.startsWith('blob:') && img.complete && img.naturalWidth > 0);
	})()`, 30*time.Second)
	if err != nil {
		msg, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('error').textContent`))
		t.Fatalf("the page did not show the consensus as of %s: %v (page error: %q)", asOf, err, msg)
	}
}

// readCard reads the card's figures as the page shows them.
func readCard(t *testing.T, ctx context.Context) map[string]string {
	t.Helper()
	card, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`(() => {
		const out = {};
		for (const dd of document.querySelectorAll('#card dd')) out[dd.id.replace('card-', '')] = dd.textContent.trim();
		out.label = document.getElementById('card-label').textContent;
		return out;
	})()`))
	require.NoError(t, err)
	return card
}

// screenshotDir is where the screenshots go: $CONSENSUS_SCREENSHOTS (for CI
// to keep them) or the test's temporary directory.
func screenshotDir(t *testing.T) string {
	if dir := os.Getenv("CONSENSUS_SCREENSHOTS"); dir != "" {
		require.NoError(t, os.MkdirAll(dir, 0o755))
		return dir
	}
	return t.TempDir()
}

// screenshot saves the viewport as a PNG and checks that it shows a page:
// many colours, and most of it not the background.
func screenshot(t *testing.T, ctx context.Context, path string) image.Image {
	t.Helper()
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, shot, 0o644))
	t.Logf("screenshot: %s", path)
	img, err := png.Decode(bytes.NewReader(shot))
	require.NoError(t, err)
	colours := map[[3]uint32]bool{}
	painted, total := 0, 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
			total++
			if r>>8 < 240 || g>>8 < 240 || bl>>8 < 240 {
				painted++
			}
		}
	}
	assert.Greater(t, len(colours), 50, "%s shows more than a blank page", filepath.Base(path))
	assert.Greater(t, float64(painted)/float64(total), 0.05, "%s has text and charts, not only background", filepath.Base(path))
	return img
}
