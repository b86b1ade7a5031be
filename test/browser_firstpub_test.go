package test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/demo"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
	"github.com/consensus-ledger/consensus/ledger"
)

// TestBrowserFirstPublished checks the page's "As first published" toggle
// on the demo recorded live (demo.LoadLive): checked, the charts show each
// day as the ledger showed it then and shade the two days that showed the
// 1650 typo (their alt text says so); unchecked, the plain charts return.
func TestBrowserFirstPublished(t *testing.T) {
	skipShort(t, "drives a headless browser")
	t.Parallel()
	exe := chromium(t)
	store := filepath.Join(t.TempDir(), "live.db")
	var clock time.Time
	now := func() time.Time { return clock }
	st, err := sqlite.Open(store, sqlite.Options{Now: now})
	require.NoError(t, err)
	_, err = demo.LoadLive(context.Background(), ledger.New(st, ledger.WithClock(now)), func(at time.Time) { clock = at })
	require.NoError(t, err)
	require.NoError(t, st.Close())

	c := newCLI(t)
	s := startServe(t, c, "--store", store)
	ctx := pageBrowser(t, exe, s.url+"/instruments/BABA?as_of=2025-09-11&range=3")
	settle(t, ctx)
	alt := func() string { return js[string](t, ctx, `document.getElementById('chart-targets').alt`) }
	require.NotContains(t, alt(), "first published")

	const shaded = " 2 of 93 rows, shaded, read differently now than when first published."
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#first-published"))))
	waitAlt(t, ctx, true)
	assert.True(t, strings.HasSuffix(alt(), shaded), alt())
	shots(t, ctx, "firstpub-charts", ".chart")

	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#first-published"))))
	waitAlt(t, ctx, false)
}

// waitAlt waits until the targets chart's alt text does (or does not) speak
// of rows first published: the charts were drawn again.
func waitAlt(t *testing.T, ctx context.Context, marked bool) {
	t.Helper()
	expr := `document.getElementById('chart-targets').alt.includes('first published')`
	if !marked {
		expr = "!" + expr
	}
	err := waitFor(ctx, expr, 40*time.Second)
	require.NoError(t, err)
}
