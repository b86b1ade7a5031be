package test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The browser tests of issue 16: the page as an analyst opens it every
// morning and as a compliance officer cites it. Each subtest names the
// issue's item it checks.

var (
	demoOnce sync.Once
	demoPath string
)

// sharedDemo returns a copy of a demo store made once per test binary:
// loading the demo is the slow part of a browser test.
func sharedDemo(t *testing.T, c *cli) string {
	t.Helper()
	demoOnce.Do(func() {
		dir, err := os.MkdirTemp(filepath.Dir(bin), "demo-")
		require.NoError(t, err)
		demoPath = filepath.Join(dir, "demo.db")
		c.ok(t, "demo", "--store", demoPath)
	})
	require.NotEmpty(t, demoPath, "the shared demo store was not made")
	return copyStore(t, demoPath)
}

// pageBrowser starts a headless Chromium at 1400x900 and returns a tab
// bounded to two minutes after its first navigation.
func pageBrowser(t *testing.T, exe, url string) context.Context {
	t.Helper()
	ctx := browserSized(t, exe, 1400, 900)
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(1400, 900), chromedp.Navigate(url)))
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancelTimeout)
	return ctx
}

// open navigates and waits until the page has drawn an answer or an error.
func open(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(url)))
	settle(t, ctx)
}

// settle waits until the page shows an answer (the card or the overview's
// rows, and the charts) or an error.
func settle(t *testing.T, ctx context.Context) {
	t.Helper()
	err := waitFor(ctx, `(() => {
		if (!document.getElementById('error').hidden) return true;
		if (!document.getElementById('overview').hidden) return document.getElementById('overview-when-line').textContent !== '';
		const card = document.getElementById('card');
		const charts = [...document.querySelectorAll('.chart img')];
		return card.dataset.state === 'ready' && document.querySelectorAll('#trend tbody tr').length === 4 &&
			charts.every((img) => img.src.startsWith('blob:') && img.complete && img.naturalWidth > 0);
	})()`, 40*time.Second)
	if err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({url: location.href, card: document.getElementById('card').dataset.state,
			trend: document.querySelectorAll('#trend tbody tr').length, error: document.getElementById('error').textContent,
			charts: [...document.querySelectorAll('.chart img')].map((img) => [img.src.slice(0, 10), img.complete, img.naturalWidth])})`))
		require.NoError(t, err, "the page shows neither an answer nor an error: %s", state)
	}
}

// waitFor polls expr in the page until it is true or timeout passes. A
// click on a link or a reload replaces the document the poll runs in, and
// Chromium then ends the poll with "Inspected target navigated or closed" or
// "Cannot find context"; waitFor begins it again in the new document.
func waitFor(ctx context.Context, expr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(time.Until(deadline))))
		if err == nil || !navigatedAway(err) || ctx.Err() != nil || time.Until(deadline) < 100*time.Millisecond {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// follow clicks the link at selector, which opens another page, and
// waits until that page has loaded. The old page is marked first, so a
// poll that runs before the navigation commits cannot mistake the old page
// for the new one.
func follow(t *testing.T, ctx context.Context, selector string) {
	t.Helper()
	js[bool](t, ctx, `window.leftByTest = true`)
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(selector))))
	require.NoError(t, waitFor(ctx, `window.leftByTest !== true && document.readyState === 'complete'`, 20*time.Second),
		"the link at %s opens a page", selector)
}

// navigatedAway tells whether err is Chromium's word for a document that
// went away under a command.
func navigatedAway(err error) bool {
	for _, word := range []string{"navigated or closed", "Cannot find context", "Execution context was destroyed", "context with specified id"} {
		if strings.Contains(err.Error(), word) {
			return true
		}
	}
	return false
}

func js[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(t, err, expr)
	return v
}

func text(t *testing.T, ctx context.Context, selector string) string {
	t.Helper()
	return js[string](t, ctx, `(document.querySelector(`+jsString(selector)+`)?.textContent ?? '<none>').trim()`)
}

func visible(t *testing.T, ctx context.Context, selector string) bool {
	t.Helper()
	return js[bool](t, ctx, `(() => { const el = document.querySelector(`+jsString(selector)+`);
		return !!el && !el.closest('[hidden]') && el.getClientRects().length > 0; })()`)
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// change sets form fields and fires the change event the page listens to.
func change(t *testing.T, ctx context.Context, values map[string]string) {
	t.Helper()
	var last string
	for id, v := range values {
		js[string](t, ctx, `document.getElementById(`+jsString(id)+`).value = `+jsString(v))
		last = id
	}
	js[bool](t, ctx, `document.getElementById(`+jsString(last)+`).dispatchEvent(new Event('change', {bubbles: true}))`)
}

// shots saves screenshots at 1400x900 and 390x844 into /tmp/web-shots (or
// $CONSENSUS_SCREENSHOTS), scrolled to the element at names if given, and
// returns to 1400x900.
func shots(t *testing.T, ctx context.Context, name string, at ...string) {
	t.Helper()
	dir := os.Getenv("CONSENSUS_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "web-shots")
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for _, size := range []struct {
		w, h   int64
		suffix string
	}{{1400, 900, "1400"}, {390, 844, "390"}} {
		var opts []chromedp.EmulateViewportOption
		if size.w < 600 {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
		}
		require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(size.w, size.h, opts...)))
		time.Sleep(300 * time.Millisecond) // let the layout settle
		if len(at) > 0 {
			js[bool](t, ctx, `(document.querySelector(`+jsString(at[0])+`)?.scrollIntoView({block: 'start'}), true)`)
		} else {
			js[bool](t, ctx, `(window.scrollTo(0, 0), true)`)
		}
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		require.NoError(t, err)
		path := filepath.Join(dir, name+"-"+size.suffix+".png")
		require.NoError(t, os.WriteFile(path, png, 0o644))
		t.Logf("screenshot: %s", path)
	}
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(1400, 900)))
}

// apiGet reads an API answer of the server, keeping numbers exact.
func apiGet(t *testing.T, s *served, path string, v any) {
	t.Helper()
	res, err := http.Get(s.url + path)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode, "%s: %s", path, body)
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	require.NoError(t, dec.Decode(v))
}

// retraction finds the demo's retraction of the wrong 1650 target.
func retraction(t *testing.T, s *served) (wrong, retract map[string]any) {
	t.Helper()
	var events []map[string]any
	apiGet(t, s, "/api/v1/instruments/BABA/events", &events)
	for _, e := range events {
		if e["type"] == "EventRetracted" {
			retract = e
		}
	}
	require.NotNil(t, retract, "the demo has a retraction")
	for _, e := range events {
		if e["event_id"] == retract["data"].(map[string]any)["retracted_event_id"] {
			wrong = e
		}
	}
	require.NotNil(t, wrong)
	return wrong, retract
}

// TestBrowserEvidence checks what a compliance officer relies on: a link
// shows exactly what it says or says what is wrong with it (items 1 to 5 of
// issue 16).
func TestBrowserEvidence(t *testing.T) {
	skipShort(t, "drives a headless browser")
	t.Parallel()
	exe := chromium(t)
	c := newCLI(t)
	store := sharedDemo(t, c)
	s := startServe(t, c, "--store", store)
	ctx := pageBrowser(t, exe, s.url+"/instruments/BABA?as_of=2025-09-11")
	settle(t, ctx)
	wrong, retract := retraction(t, s)
	recorded := retract["recorded_at"].(string) // e.g. 2026-12-02T13:08:32.430504Z

	t.Run("item 2: an invalid date is an error naming it, and the address stays", func(t *testing.T) {
		for _, link := range []string{"/instruments/BABA?as_of=2025-13-45", "/instruments/BABA?known_at=yesterday", "/?as_of=2025-13-45"} {
			open(t, ctx, s.url+link)
			assert.True(t, visible(t, ctx, "#error"), link)
			msg := text(t, ctx, "#error")
			field := "as_of"
			value := "2025-13-45"
			if strings.Contains(link, "known_at") {
				field, value = "known_at", "yesterday"
			}
			assert.Contains(t, msg, field, link)
			assert.Contains(t, msg, `"`+value+`"`, link)
			assert.False(t, visible(t, ctx, "#card"), "%s: no card beside the error", link)
			assert.False(t, visible(t, ctx, "#overview-table"), "%s: no list beside the error", link)
			where := js[string](t, ctx, `location.pathname + location.search`)
			assert.Equal(t, strings.ReplaceAll(link, "yesterday", "yesterday"), where, "the address bar is not rewritten")
		}
		shots(t, ctx, "item2-invalid-date")
	})

	t.Run("item 2: a timestamp known_at is shown exactly, not now", func(t *testing.T) {
		open(t, ctx, s.url+"/instruments/BABA?as_of=2025-09-11&known_at="+recorded)
		assert.Equal(t, "/instruments/BABA?as_of=2025-09-11&known_at="+recorded, js[string](t, ctx, `location.pathname + location.search`))
		assert.Equal(t, recorded, js[string](t, ctx, `document.getElementById('card').dataset.knownAt`))
		card := readCard(t, ctx)
		assert.Equal(t, "162.59 USD", card["mean-target"], "known once the retraction is recorded: the 1650 is gone")
		assert.Equal(t, "–", card["close"], "no close was recorded yet then")
	})

	t.Run("item 1: date and time to the microsecond, in UTC, between two events of the same millisecond", func(t *testing.T) {
		open(t, ctx, s.url+"/instruments/BABA?as_of=2025-09-11")
		date, clockTime := recorded[:10], strings.TrimSuffix(recorded[11:], "Z")
		assert.Equal(t, "UTC", text(t, ctx, "#instrument-when fieldset:nth-of-type(2) .tz"), "the time zone is shown")
		before := justBeforeText(t, clockTime)
		change(t, ctx, map[string]string{"known-at": date, "known-at-time": before})
		err := waitFor(ctx, `document.getElementById('card-high-low').textContent === '1,650.00 / 140.00'`, 20*time.Second)
		require.NoError(t, err, "just before the retraction, the wrong 1650 target counts: %v", readCard(t, ctx))
		assert.Equal(t, "251.41 USD", readCard(t, ctx)["mean-target"])
		assert.Equal(t, "?as_of=2025-09-11&known_at="+date+"T"+before+"Z", js[string](t, ctx, `location.search`))
		assert.Contains(t, text(t, ctx, "#card-when"), "as known at "+readableDay(date)+", "+before+" UTC")
		shots(t, ctx, "item1-known-just-before", "#card")

		change(t, ctx, map[string]string{"known-at-time": clockTime})
		err = waitFor(ctx, `document.getElementById('card-mean-target').textContent === '162.59 USD'`, 20*time.Second)
		require.NoError(t, err, "from the retraction's recording on, the 1650 is gone")
	})

	t.Run("item 1 and 5: the event log offers just before and at each event", func(t *testing.T) {
		open(t, ctx, s.url+"/instruments/BABA?as_of=2025-09-11#event-"+retract["event_id"].(string))
		err := waitFor(ctx, `document.querySelectorAll('#log tbody tr').length === 57`, 20*time.Second)
		require.NoError(t, err, "the address's event opens the log")
		row := "#event-" + retract["event_id"].(string)
		assert.True(t, js[bool](t, ctx, `document.querySelector('`+row+`').classList.contains('target')`), "the event is marked")
		assert.Contains(t, text(t, ctx, row), "retracts "+wrong["event_id"].(string)[:8])
		assert.Contains(t, text(t, ctx, row), "reason: typo: target 1650 keyed instead of 165")
		assert.Contains(t, text(t, ctx, row), readable(recorded), "the recorded time in full")
		wrongRow := "#event-" + wrong["event_id"].(string)
		assert.Contains(t, text(t, ctx, wrongRow), "retracted by "+retract["event_id"].(string)[:8], "linked both ways")
		assert.Contains(t, text(t, ctx, wrongRow), "target 1,650.00 USD")
		assert.Contains(t, text(t, ctx, wrongRow), "3 Sep 2025, end of day UTC"[:10])
		assert.Equal(t, "#event-"+retract["event_id"].(string),
			js[string](t, ctx, `document.querySelector('`+wrongRow+` a[href^="#event-"][title="`+retract["event_id"].(string)+`"]').getAttribute('href')`))
		assert.Equal(t, "–", text(t, ctx, wrongRow+" td.action"), "a retracted event has no actions as known now (CONTRACT 8)")
		shots(t, ctx, "item5-event-log", row)

		follow(t, ctx, row+" a.before")
		settle(t, ctx)
		assert.Equal(t, "251.41 USD", readCard(t, ctx)["mean-target"], "just before the retraction")
		assert.Contains(t, js[string](t, ctx, `location.search`), "known_at="+justBeforeStamp(t, recorded))
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(s.url+"/instruments/BABA?as_of=2025-09-11#event-"+retract["event_id"].(string))))
		err = waitFor(ctx, `document.querySelectorAll('#log tbody tr').length === 57`, 20*time.Second)
		require.NoError(t, err)
		follow(t, ctx, row+" a.after")
		settle(t, ctx)
		assert.Equal(t, "162.59 USD", readCard(t, ctx)["mean-target"], "once the retraction is recorded")
	})

	t.Run("item 3: a future known_at is capped at now, and said so", func(t *testing.T) {
		today := time.Now().UTC().Format("2006-01-02")
		for _, knownAt := range []string{"2030-01-01T00:00:00Z", today} {
			open(t, ctx, s.url+"/instruments/BABA?as_of=2025-09-11&known_at="+knownAt)
			assert.True(t, visible(t, ctx, "#instrument-note"), knownAt)
			assert.Contains(t, text(t, ctx, "#instrument-note"), "still in the future: shown as known now instead")
			assert.Contains(t, text(t, ctx, "#card-when"), "as known now (")
			assert.Equal(t, "165.69 USD", readCard(t, ctx)["mean-target"])
			assert.Equal(t, "/instruments/BABA?as_of=2025-09-11&known_at="+knownAt, js[string](t, ctx, `location.pathname + location.search`))
		}
		shots(t, ctx, "item3-future-known-at")
		open(t, ctx, s.url+"/instruments/BABA?as_of=2025-09-11&known_at="+recorded)
		assert.False(t, visible(t, ctx, "#instrument-note"), "a past known_at is no cap")
	})

	t.Run("item 4: times as people read them", func(t *testing.T) {
		open(t, ctx, s.url+"/instruments/BABA?as_of=2025-09-11")
		when := text(t, ctx, "#card-when")
		assert.True(t, strings.HasPrefix(when, "As of 11 Sep 2025, end of day UTC · as known now ("), when)
		assert.NotContains(t, when, "23:59:59.999999999")
		assert.Equal(t, "155.44 on 11 Sep 2025", readCard(t, ctx)["close"])
		shots(t, ctx, "item4-readable-times")
	})

	t.Run("what changed since: the typo's figures highlighted, the retraction linked to the log", func(t *testing.T) {
		open(t, ctx, s.url+"/instruments/BABA?as_of=2025-09-11&range=3")
		js[bool](t, ctx, `document.getElementById('diff-section').open = true`)
		date, clockTime := recorded[:10], strings.TrimSuffix(recorded[11:], "Z")
		js[string](t, ctx, `document.getElementById('since-known').value = `+jsString(date))
		js[string](t, ctx, `document.getElementById('since-known-time').value = `+jsString(justBeforeText(t, clockTime)))
		require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#diff-show"))))
		err := waitFor(ctx, `document.getElementById('diff').dataset.state === 'ready'`, 20*time.Second)
		require.NoError(t, err, "the changes are drawn")
		// Known just before the retraction: the 1650 counted. Now: it does not.
		row := `#diff tr[data-as-of="2025-09-03T23:59:59.999999999Z"][data-field="high_target"]`
		assert.Equal(t, "1,650.00", text(t, ctx, row+" td.before"))
		assert.Equal(t, "200.00", text(t, ctx, row+" td.after"))
		assert.True(t, js[bool](t, ctx, `document.querySelector('`+row+` td.after').classList.contains('changed')`), "the new figure is highlighted")
		mean := `#diff tr[data-as-of="2025-09-03T23:59:59.999999999Z"][data-field="mean_target"]`
		assert.Equal(t, "251.41", text(t, ctx, mean+" td.before"))
		assert.Equal(t, "164.06", text(t, ctx, mean+" td.after"))
		link := `#diff tr.first-of-day[data-as-of="2025-09-03T23:59:59.999999999Z"] td.causes a[title="` + retract["event_id"].(string) + `"]`
		assert.Equal(t, retract["event_id"].(string)[:8], text(t, ctx, link), "the retraction is named among the causes")
		assert.Contains(t, text(t, ctx, `#diff tr.first-of-day[data-as-of="2025-09-03T23:59:59.999999999Z"] td.causes`), "Retraction "+retract["event_id"].(string)[:8])
		assert.Equal(t, 0, js[int](t, ctx, `document.querySelectorAll('#diff tr[data-as-of="2025-09-02T23:59:59.999999999Z"][data-field="mean_target"]').length`),
			"before the typo was effective its retraction changed no target")
		shots(t, ctx, "diff-what-changed-since", "#diff")

		require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(link))))
		err = waitFor(ctx, `!!document.querySelector('#event-`+retract["event_id"].(string)+`.target')`, 20*time.Second)
		require.NoError(t, err, "the cause's link opens the event log at the retraction")
		assert.True(t, js[bool](t, ctx, `document.getElementById('log-section').open`))
	})
}

// justBeforeText is the clock time one nanosecond before hh:mm:ss.ffffff.
func justBeforeText(t *testing.T, clock string) string {
	t.Helper()
	ts, err := time.Parse("2006-01-02T15:04:05.999999999Z", "2000-01-01T"+clock+"Z")
	require.NoError(t, err)
	return ts.Add(-time.Nanosecond).Format("15:04:05.999999999")
}

func justBeforeStamp(t *testing.T, stamp string) string {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, stamp)
	require.NoError(t, err)
	return ts.Add(-time.Nanosecond).Format(time.RFC3339Nano)
}

func readableDay(date string) string {
	d, _ := time.Parse("2006-01-02", date)
	return d.Format("2 Jan 2006")
}

func readable(stamp string) string {
	ts, _ := time.Parse(time.RFC3339Nano, stamp)
	return ts.Format("2 Jan 2006, 15:04:05.999999999") + " UTC"
}

// morningStore is the demo with a yen-quoted instrument added, so figures
// in three currencies stand side by side.
func morningStore(t *testing.T, c *cli) string {
	t.Helper()
	store := sharedDemo(t, c)
	c.ok(t, "rate", "7203.T", "--analyst", "a.sato@kabu", "--rating", "buy", "--target", "3500", "--currency", "JPY", "--at", "2025-09-10", "--store", store)
	c.ok(t, "rate", "7203.T", "--analyst", "b.ito@kabu", "--rating", "hold", "--target", "3601", "--currency", "JPY", "--at", "2025-09-10", "--store", store)
	c.ok(t, "close", "7203.T", "--price", "2845.5", "--currency", "JPY", "--at", "2025-09-11", "--store", store)
	return store
}

// overviewRows reads the overview's rows as shown: symbol and cells.
func overviewRows(t *testing.T, ctx context.Context) [][]string {
	t.Helper()
	return js[[][]string](t, ctx, `[...document.querySelectorAll('#overview-table tbody tr')].map((tr) =>
		[tr.querySelector('a').textContent, ...[...tr.querySelectorAll('td')].slice(1).map((td) => td.textContent.trim())])`)
}

func symbols(rows [][]string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r[0]
	}
	return out
}

// TestBrowserMorning checks what an analyst reads every morning (items 6,
// 7, 9 to 13 and 15 of issue 16).
func TestBrowserMorning(t *testing.T) {
	skipShort(t, "drives a headless browser")
	t.Parallel()
	exe := chromium(t)
	c := newCLI(t)
	store := morningStore(t, c)
	s := startServe(t, c, "--store", store)
	ctx := pageBrowser(t, exe, s.url+"/")
	settle(t, ctx)

	t.Run("item 6: the default is the latest close, with each close's date", func(t *testing.T) {
		assert.Equal(t, "/", js[string](t, ctx, `location.pathname + location.search`), "the address is not rewritten")
		when := text(t, ctx, "#overview-when-line")
		assert.True(t, strings.HasPrefix(when, "As of 12 Sep 2025, end of day UTC (the latest close in the ledger) · as known now ("), when)
		rows := overviewRows(t, ctx)
		require.Equal(t, []string{"7203.T", "9988.HK", "BABA"}, symbols(rows))
		assert.Equal(t, []string{"BABA", "Strong Buy", "18", "17", "1", "0", "165.69", "152.98on 12 Sep 2025", "8.31"}, rows[2])
		assert.Equal(t, "2,846on 11 Sep 2025", rows[0][7], "the yen close shows its own date")
		assert.Equal(t, "?as_of=2025-09-12", js[string](t, ctx, `new URL(document.querySelector('#overview-table a[href*="BABA"]').href).search`),
			"a row's link says the date its figures are for")
		shots(t, ctx, "item6-overview-latest")

		open(t, ctx, s.url+"/instruments/BABA")
		assert.Equal(t, "/instruments/BABA", js[string](t, ctx, `location.pathname + location.search`))
		card := readCard(t, ctx)
		assert.Equal(t, "152.98 on 12 Sep 2025", card["close"])
		assert.Equal(t, "8.31 %", card["upside"])
		assert.True(t, strings.HasPrefix(text(t, ctx, "#card-when"), "As of 12 Sep 2025, end of day UTC (the latest close in the ledger)"))
		assert.Equal(t, "2025-09-12", js[string](t, ctx, `document.getElementById('as-of').value`), "the picker shows the date too")
		shots(t, ctx, "item6-instrument-latest")
	})

	t.Run("item 8: the rating changes of every instrument on the front page", func(t *testing.T) {
		open(t, ctx, s.url+"/")
		err := waitFor(ctx, `performance.getEntriesByName('changes-drawn').length > 0`, 20*time.Second)
		require.NoError(t, err, "the front page draws the rating changes")
		rows := js[[][]string](t, ctx, `[...document.querySelectorAll('#changes tbody tr')].map((tr) => [...tr.children].map((td) => td.textContent))`)
		// The 30 days to the latest close, 12 September: 18 changes of BABA
		// and 9988.HK from 14 August on, and the two yen ratings.
		require.Len(t, rows, 20)
		assert.Equal(t, []string{"10 Sep 2025", "7203.T", "b.ito@kabu", "hold", "3,601 JPY", "initiation, set", rows[0][6]}, rows[0], "newest first; recorded last, first")
		assert.Equal(t, []string{"10 Sep 2025", "BABA", "a.schmidt@rheinlandRheinland Research", "Target revised", "150.00 → 166.00 USD", "raised", rows[2][6]}, rows[2])
		assert.Equal(t, []string{"15 Aug 2025", "BABA", "o.berg@fjord-securitiesFjord Securities", "Withdrawn", "–", "coverage dropped", rows[19][6]}, rows[19], "the oldest of the 30 days last")
		assert.Contains(t, text(t, ctx, "#changes-when"), "effective from 14 Aug 2025 to 12 Sep 2025, end of day UTC, newest first")
		assert.Equal(t, "/instruments/BABA?as_of=2025-09-10", js[string](t, ctx, `new URL(document.querySelector('#changes tbody tr:nth-child(3) td:nth-child(2) a').href).pathname + new URL(document.querySelector('#changes tbody tr:nth-child(3) td:nth-child(2) a').href).search`))
		shots(t, ctx, "item8-changes", "#changes-section")
		id := js[string](t, ctx, `document.querySelector('#changes tbody tr:nth-child(3) td:last-child a').title`)
		follow(t, ctx, "#changes tbody tr:nth-child(3) td:last-child a")
		err = waitFor(ctx, `!!document.querySelector('#log tr.target')`, 20*time.Second)
		require.NoError(t, err, "the event link opens the instrument's log at the event")
		assert.Equal(t, "event-"+id, js[string](t, ctx, `document.querySelector('#log tr.target').id`))
		assert.Contains(t, text(t, ctx, "#log tr.target"), "a.schmidt@rheinland: target 166.00 USD")
	})

	t.Run("item 15: an unknown instrument shows the error alone", func(t *testing.T) {
		open(t, ctx, s.url+"/instruments/NOPE")
		assert.True(t, visible(t, ctx, "#error"))
		assert.Contains(t, text(t, ctx, "#error"), "NOPE")
		assert.Contains(t, text(t, ctx, "#error"), "Not found.")
		for _, sel := range []string{"#card", "#chart-targets", "#chart-ratings", "#explain", "#trend", "#instrument-when"} {
			assert.False(t, visible(t, ctx, sel), "%s is not shown beside the error", sel)
		}
		shots(t, ctx, "item15-unknown")
	})

	t.Run("item 11: thousands, decimals by currency, money sorted within its currency", func(t *testing.T) {
		open(t, ctx, s.url+"/?as_of=2025-09-12")
		rows := overviewRows(t, ctx)
		assert.Equal(t, "3,551", rows[0][6], "a yen mean target has no decimals")
		assert.Equal(t, "exactly 3550.5", js[string](t, ctx, `document.querySelector('#overview-table tbody tr td:nth-child(7)').title`))
		sortBy := func(key string) []string {
			require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`th[data-key="`+key+`"] button`))))
			return symbols(overviewRows(t, ctx))
		}
		assert.Equal(t, []string{"9988.HK", "7203.T", "BABA"}, sortBy("mean_target"), "grouped by currency: HKD, JPY, USD")
		assert.Equal(t, []string{"9988.HK", "7203.T", "BABA"}, sortBy("mean_target"), "descending within each currency, never yen against dollars")
		assert.Equal(t, []string{"BABA", "9988.HK", "7203.T"}, sortBy("upside_pct"), "upside sorts across currencies")
		open(t, ctx, s.url+"/instruments/7203.T?as_of=2025-09-11")
		card := readCard(t, ctx)
		assert.Equal(t, "3,551 JPY", card["mean-target"])
		assert.Equal(t, "3,601 / 3,500", card["high-low"])
		assert.Equal(t, "2,846 on 11 Sep 2025", card["close"])
		assert.Equal(t, "24.78 %", card["upside"])
		shots(t, ctx, "item11-yen")
	})

	t.Run("item 7: the list filters by symbol, label and currency", func(t *testing.T) {
		open(t, ctx, s.url+"/?as_of=2025-09-12")
		filter := func(textValue, currency string) []string {
			js[bool](t, ctx, `(() => { const f = document.getElementById('filter'); f.value = `+jsString(textValue)+`; f.dispatchEvent(new Event('input'));
				const c = document.getElementById('currency-filter'); c.value = `+jsString(currency)+`; c.dispatchEvent(new Event('change')); return true; })()`)
			return symbols(overviewRows(t, ctx))
		}
		assert.Equal(t, []string{"7203.T"}, filter("jpy", ""))
		assert.Equal(t, "Showing 1 of 3 instruments", text(t, ctx, "#overview-count"))
		assert.Equal(t, []string{"9988.HK", "BABA"}, filter("strong", ""))
		assert.Equal(t, []string{"BABA"}, filter("ba", ""))
		assert.Equal(t, []string{"9988.HK"}, filter("", "HKD"))
		shots(t, ctx, "item7-filter")
		assert.Equal(t, []string{"7203.T", "9988.HK", "BABA"}, filter("", ""))
	})

	t.Run("item 12: the explain table reads on a laptop and a phone, sorts and filters", func(t *testing.T) {
		open(t, ctx, s.url+"/instruments/BABA?as_of=2025-09-11")
		fits := `(() => { const t = document.getElementById('explain'); return t.scrollWidth <= t.parentElement.clientWidth + 1; })()`
		tallest := `Math.max(...[...document.querySelectorAll('#explain tbody tr')].map((tr) => tr.getBoundingClientRect().height))`
		assert.True(t, js[bool](t, ctx, fits), "no column is cut off at 1400 px")
		assert.Less(t, js[float64](t, ctx, tallest), 160.0, "rows stay short at 1400 px (they were 311 px)")
		require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#explain th[data-key="target"] button`))))
		assert.Equal(t, "95.00", text(t, ctx, "#explain tbody tr td:nth-child(4)"), "lowest target first")
		js[bool](t, ctx, `(() => { const s = document.getElementById('status-filter'); s.value = 'counted'; return s.dispatchEvent(new Event('change')); })()`)
		assert.Equal(t, 18, js[int](t, ctx, `document.querySelectorAll('#explain tbody tr').length`))
		assert.Equal(t, 18, js[int](t, ctx, `document.querySelectorAll('#explain tbody tr.status-counted').length`))
		js[bool](t, ctx, `(() => { const s = document.getElementById('status-filter'); s.value = 'stale'; return s.dispatchEvent(new Event('change')); })()`)
		assert.Equal(t, "v.ivanova@ural-capital", text(t, ctx, "#explain tbody tr .who"))
		shots(t, ctx, "item12-explain", "#explain")
		js[bool](t, ctx, `(() => { const s = document.getElementById('status-filter'); s.value = ''; return s.dispatchEvent(new Event('change')); })()`)
		require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch)))
		time.Sleep(300 * time.Millisecond)
		assert.True(t, js[bool](t, ctx, fits), "on a phone the table fits its box")
		assert.True(t, js[bool](t, ctx, `document.documentElement.scrollWidth <= window.innerWidth`), "the page does not scroll sideways")
		shots(t, ctx, "item12-explain-phone", "#explain tbody tr:nth-child(3)")
	})

	t.Run("item 9: counts and mean rating now against 1 week, 1 month and 3 months earlier", func(t *testing.T) {
		open(t, ctx, s.url+"/instruments/BABA?as_of=2025-09-11")
		rows := js[[][]string](t, ctx, `[...document.querySelectorAll('#trend tbody tr')].map((tr) => [...tr.children].map((td) => td.textContent))`)
		assert.Equal(t, [][]string{
			{"Shown", "11 Sep 2025", "18", "17", "1", "0", "2.00", "Strong Buy"},
			{"1 week earlier", "4 Sep 2025", "17", "16", "1", "0", "2.00", "Strong Buy"},
			{"1 month earlier", "11 Aug 2025", "13", "11", "2", "0", "2.08", "Strong Buy"},
			{"3 months earlier", "11 Jun 2025", "7", "3", "4", "0", "2.57", "Moderate Buy"},
		}, rows)
		shots(t, ctx, "item9-trend", "#trend")
	})

	t.Run("item 10: charts read on hover, with currency and real alt text", func(t *testing.T) {
		open(t, ctx, s.url+"/instruments/BABA?as_of=2025-09-11")
		alt := js[string](t, ctx, `document.getElementById('chart-targets').alt`)
		assert.Contains(t, alt, "mean target 165.69 USD, close 155.44, upside 6.59 %")
		assert.Contains(t, text(t, ctx, "#caption-targets"), "(USD)")
		box := js[[]float64](t, ctx, `(() => { const img = document.getElementById('chart-targets'); img.scrollIntoView({block: 'center'});
			const r = img.getBoundingClientRect(); return [r.right - 20, r.top + r.height / 2]; })()`)
		require.NoError(t, chromedp.Do(ctx, chromedp.MouseEvent("mouseMoved", box[0], box[1])))
		assert.Equal(t, "11 Sep 2025: mean target 165.69 USD (high 200.00, low 140.00), close 155.44 USD on 11 Sep 2025, upside 6.59 %", text(t, ctx, "#readout-targets"))
		assert.Equal(t, "11 Sep 2025: 17 buy, 1 hold, 0 sell of 18 analysts", text(t, ctx, "#readout-ratings"))
		shots(t, ctx, "item10-hover", ".chart")
	})

	t.Run("item 13: CSV of the list, the analysts and the history; a print layout", func(t *testing.T) {
		dir := t.TempDir()
		_, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir})
		require.NoError(t, err)
		fetched := func(button, name string) string {
			t.Helper()
			require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(button))))
			path := filepath.Join(dir, name)
			// Chromium may show the file under its name before it has
			// written it: wait until it holds something and no download
			// is in progress (every export has a header row).
			require.Eventually(t, func() bool {
				info, err := os.Stat(path)
				partial, _ := filepath.Glob(filepath.Join(dir, "*.crdownload"))
				return err == nil && info.Size() > 0 && len(partial) == 0
			}, 20*time.Second, 100*time.Millisecond, "%s is downloaded", name)
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			return string(b)
		}
		open(t, ctx, s.url+"/?as_of=2025-09-11")
		list := strings.Split(strings.TrimSpace(fetched("#export-list", "consensus-list.csv")), "\r\n")
		require.Len(t, list, 4)
		assert.Equal(t, "instrument,currency,as_of,known_at,window_days,analysts,buy,hold,sell,mean_rating,label,targets,mean_target,median_target,high_target,low_target,stddev_target,close,close_at,upside_pct", list[0])
		assert.True(t, strings.HasPrefix(list[3], "BABA,USD,2025-09-11T23:59:59.999999999Z,"), list[3])
		assert.True(t, strings.HasSuffix(list[3], ",90,18,17,1,0,2,Strong Buy,18,165.69,165,200,140,14.14,155.44,2025-09-11T23:59:59.999999999Z,6.59"), list[3])

		open(t, ctx, s.url+"/instruments/BABA?as_of=2025-09-11")
		analysts := strings.Split(strings.TrimSpace(fetched("#export-explain", "BABA-analysts.csv")), "\r\n")
		assert.Len(t, analysts, 1+js[int](t, ctx, `document.querySelectorAll('#explain tbody tr').length`))
		assert.Contains(t, strings.Join(analysts, "\n"), "BABA,2025-09-11T23:59:59.999999999Z,")
		assert.Contains(t, strings.Join(analysts, "\n"), ",p.rossi@lagoon-capital,Lagoon Capital,buy,buy,165,")
		assert.Equal(t, "one row per day from 11 Mar 2025 to 11 Sep 2025, the consensus of each day as the card shows it", text(t, ctx, "#export-history-note"))
		history := strings.Split(strings.TrimSpace(fetched("#export-history", "BABA-history-daily.csv")), "\r\n")
		require.Len(t, history, 1+185, "a row for every day of the chart's six months, 11 March to 11 September")
		assert.True(t, strings.HasPrefix(history[1], "BABA,USD,2025-03-11T23:59:59.999999999Z,"), history[1])
		assert.True(t, strings.HasPrefix(history[2], "BABA,USD,2025-03-12T23:59:59.999999999Z,"), history[2])
		assert.True(t, strings.HasPrefix(history[len(history)-1], "BABA,USD,2025-09-11T23:59:59.999999999Z,"), history[len(history)-1])
		assert.True(t, strings.HasSuffix(history[len(history)-1], ",165.69,165,200,140,14.14,155.44,2025-09-11T23:59:59.999999999Z,6.59"))

		_, err = chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
		require.NoError(t, err)
		assert.False(t, visible(t, ctx, "#instrument-when"), "no controls in print")
		assert.False(t, visible(t, ctx, "header.top"))
		assert.True(t, visible(t, ctx, "#print-line"))
		assert.Contains(t, text(t, ctx, "#print-line"), "As of 11 Sep 2025, end of day UTC · as known now (")
		assert.Contains(t, text(t, ctx, "#print-line"), s.url+"/instruments/BABA?as_of=2025-09-11")
		assert.True(t, visible(t, ctx, "#card"))
		assert.True(t, visible(t, ctx, "#explain"))
		pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF())
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(string(pdf), "%PDF"))
		require.NoError(t, os.WriteFile(filepath.Join(t.TempDir(), "print.pdf"), pdf, 0o644))
		shots(t, ctx, "item13-print")
		_, err = chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: ""})
		require.NoError(t, err)
	})

	t.Run("item 8: the rating changes of an instrument", func(t *testing.T) {
		open(t, ctx, s.url+"/instruments/BABA?as_of=2025-09-11")
		require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#feed-section summary"))))
		err := waitFor(ctx, `document.querySelectorAll('#feed tbody tr').length === 34`, 20*time.Second)
		require.NoError(t, err, "23 ratings, 10 target revisions and 1 withdrawal")
		first := js[[]string](t, ctx, `[...document.querySelector('#feed tbody tr').children].map((td) => td.textContent)`)
		assert.Equal(t, "raised", first[5], "a.schmidt's 166 of 10 September, against 150: the API's target_action")
		actions := js[[]string](t, ctx, `[...document.querySelectorAll('#feed tbody tr')].map((tr) => tr.children[1].textContent.split('@')[0] + ' ' + tr.children[5].textContent)`)
		assert.Contains(t, actions, "d.kim upgrade, raised", "neutral 130 to buy 168")
		assert.Contains(t, actions, "o.berg coverage dropped")
		assert.Contains(t, actions, "n.ahmed reiteration, raised")
		explained := js[string](t, ctx, `[...document.querySelectorAll('#explain tbody tr')].map((tr) => tr.textContent).join('|')`)
		assert.Contains(t, explained, "(upgrade)", "the explain table names the actions of its events")
		retracted := js[string](t, ctx, `[...document.querySelectorAll('#feed tbody tr.retracted')].map((tr) => tr.textContent).join('|')`)
		assert.Contains(t, retracted, "Target revised (retracted)")
		assert.Contains(t, retracted, "1,650.00 USD")
		shots(t, ctx, "item8-feed", "#feed-section")
	})

	t.Run("issue 14 item 4: a firm's disclosures, with a link to its PDF", func(t *testing.T) {
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(s.url+"/firms/Meridian%20Capital?as_of=2025-09-12")))
		err := waitFor(ctx, `document.querySelectorAll('#recommendations tbody tr').length > 0 || !document.getElementById('error').hidden`, 40*time.Second)
		require.NoError(t, err)
		assert.False(t, visible(t, ctx, "#error"), text(t, ctx, "#error"))
		assert.Equal(t, "Disclosures: Meridian Capital", text(t, ctx, "#disclosures h1"))
		dist := js[[]string](t, ctx, `[...document.querySelectorAll('#distribution tbody tr')].map((tr) => tr.textContent)`)
		assert.Equal(t, []string{"buy1100.00 %", "hold00.00 %", "sell00.00 %"}, dist)
		recs := js[[][]string](t, ctx, `[...document.querySelectorAll('#recommendations tbody tr')].map((tr) => [...tr.children].map((td) => td.textContent))`)
		assert.Equal(t, [][]string{
			{"20 Jun 2025", "BABA", "j.ortiz@meridian", "buy (outperform)", "initiation", "150 USD", "set", "112.6", "152.98"},
			{"1 Sep 2025", "BABA", "j.ortiz@meridian", "–", "–", "175 USD", "raised", "135", "152.98"},
		}, recs)
		href := js[string](t, ctx, `document.getElementById('disclosures-pdf').getAttribute('href')`)
		assert.Equal(t, "/api/v1/firms/Meridian%20Capital/disclosures?as_of=2025-09-12&format=pdf", href)
		res, err := http.Get(s.url + href)
		require.NoError(t, err)
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		assert.Equal(t, "application/pdf", res.Header.Get("Content-Type"))
		assert.True(t, strings.HasPrefix(string(body), "%PDF-1."), "the link is the PDF")
		shots(t, ctx, "issue14-disclosures", "#disclosures")
	})
}

// TestBrowserToken checks that a refused token is said to be refused, and
// that the token can be changed or forgotten (item 16 of issue 16).
func TestBrowserToken(t *testing.T) {
	skipShort(t, "drives a headless browser")
	t.Parallel()
	exe := chromium(t)
	c := newCLI(t)
	store := sharedDemo(t, c)
	tokens := filepath.Join(t.TempDir(), "tokens")
	require.NoError(t, os.WriteFile(tokens, []byte("right-token-0123456789 read analyst\n"), 0o600))
	s := startServe(t, c, "--store", store, "--tokens", tokens)
	ctx := pageBrowser(t, exe, s.url+"/instruments/BABA?as_of=2025-09-11")
	// Forgetting the token reloads the page; waitFor follows the poll
	// into the new document.
	dialogOpen := func() {
		t.Helper()
		require.NoError(t, waitFor(ctx, `document.getElementById('token-dialog').open`, 20*time.Second), "the token dialog opens")
	}
	give := func(token, button string) {
		t.Helper()
		js[string](t, ctx, `document.getElementById('token-input').value = `+jsString(token))
		require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#token-form button[value="`+button+`"]`))))
	}
	dialogOpen()
	assert.Equal(t, "This server needs an access token.", text(t, ctx, "#token-message"))
	give("wrong-token", "use")
	err := waitFor(ctx, `document.getElementById('token-dialog').open && document.getElementById('token-message').className === 'refused'`, 20*time.Second)
	require.NoError(t, err, "a wrong token is said to be refused")
	assert.True(t, strings.HasPrefix(text(t, ctx, "#token-message"), "The server refused the token you gave"), text(t, ctx, "#token-message"))
	assert.True(t, visible(t, ctx, "#token-forget"), "the refused token can be forgotten")
	shots(t, ctx, "item16-token-refused")
	give("right-token-0123456789", "use")
	settle(t, ctx)
	assert.Equal(t, "165.69 USD", readCard(t, ctx)["mean-target"])
	assert.True(t, visible(t, ctx, "#token-button"), "the header offers to change or forget the token")

	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#token-button"))))
	dialogOpen()
	assert.Equal(t, "Change the token this tab sends, or forget it.", text(t, ctx, "#token-message"))
	give("", "forget")
	time.Sleep(time.Second) // the page reloads without the token
	dialogOpen()
	assert.Equal(t, "This server needs an access token.", text(t, ctx, "#token-message"), "forgotten: asked afresh")
	assert.Equal(t, "", js[string](t, ctx, `sessionStorage.getItem('consensus-token') ?? ''`))
}

// TestBrowserServerLost checks that the page says when it loses the
// server, shows "live" only while it is live, retries with growing pauses
// and comes back by itself (item 14 of issue 16).
func TestBrowserServerLost(t *testing.T) {
	skipShort(t, "drives a headless browser")
	t.Parallel()
	exe := chromium(t)
	c := newCLI(t)
	store := sharedDemo(t, c)
	s := startServe(t, c, "--store", store)
	addr := strings.TrimPrefix(s.url, "http://")
	ctx := pageBrowser(t, exe, s.url+"/instruments/BABA?as_of=2025-09-11")
	settle(t, ctx)
	err := waitFor(ctx, `document.getElementById('live').dataset.live === 'on'`, 20*time.Second)
	require.NoError(t, err)
	assert.Equal(t, "live", text(t, ctx, "#live"))
	assert.False(t, visible(t, ctx, "#banner"))

	s.stop(t, syscall.SIGTERM)
	err = waitFor(ctx, `!document.getElementById('banner').hidden`, 20*time.Second)
	require.NoError(t, err, "a banner says the connection is lost")
	assert.Equal(t, "not live", text(t, ctx, "#live"))
	assert.Contains(t, text(t, ctx, "#banner-text"), "The live connection to the server was lost at ")
	shots(t, ctx, "item14-server-lost")
	// The pauses grow: 1 s, 2 s, 4 s ...
	err = waitFor(ctx, `document.getElementById('banner-text').textContent.includes('Retrying in 4 s')`, 20*time.Second)
	require.NoError(t, err, "retries back off: %s", text(t, ctx, "#banner-text"))

	startServe(t, c, "--store", store, "--addr", addr)
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#banner-retry"))))
	err = waitFor(ctx, `document.getElementById('live').dataset.live === 'on' && document.getElementById('banner').hidden`, 40*time.Second)
	require.NoError(t, err, "back by itself once the server is back")
	assert.Equal(t, "live", text(t, ctx, "#live"))
}

// TestBrowserFirstLoad200 opens the overview of a 200-instrument ledger
// twice and reports how long the second (warm) load takes to draw every
// row and how much it transferred: under 1 s and well under the 200 KB
// budget (the "done when").
func TestBrowserFirstLoad200(t *testing.T) {
	skipShort(t, "drives a headless browser")
	t.Parallel()
	exe := chromium(t)
	c := newCLI(t)
	rows := filepath.Join(t.TempDir(), "gen.jsonl")
	c.ok(t, "gen", "--instruments", "200", "--analysts", "5", "--years", "1", "--seed", "1", "--out", rows)
	store := newStore(t)
	c.ok(t, "import", rows, "--store", store)
	s := startServe(t, c, "--store", store)
	ctx := pageBrowser(t, exe, s.url+"/")
	drawn := func() float64 {
		t.Helper()
		err := waitFor(ctx, `performance.getEntriesByName('overview-drawn').length > 0 &&
			document.querySelectorAll('#overview-table tbody tr').length === 200`, 60*time.Second)
		require.NoError(t, err, "the overview draws 200 rows")
		return js[float64](t, ctx, `performance.getEntriesByName('overview-drawn')[0].startTime`)
	}
	transferred := func() float64 {
		return js[float64](t, ctx, `performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
			.filter((e) => !e.name.includes('/events/stream')).reduce((n, e) => n + e.transferSize, 0)`)
	}
	// The rating changes of the last 30 days follow the list, from their
	// own request.
	changes := func() float64 {
		t.Helper()
		err := waitFor(ctx, `performance.getEntriesByName('changes-drawn').length > 0`, 60*time.Second)
		require.NoError(t, err, "the front page draws the rating changes")
		return js[float64](t, ctx, `performance.getEntriesByName('changes-drawn')[0].startTime`)
	}
	cold := drawn()
	coldChanges := changes()
	coldSize := transferred()
	require.NoError(t, chromedp.Do(ctx, chromedp.Reload()))
	warm := drawn()
	warmChanges := changes()
	warmSize := transferred()
	changed := js[int](t, ctx, `document.querySelectorAll('#changes tbody tr').length`)
	t.Logf("overview of 200 instruments: list drawn %.0f ms and %d rating changes %.0f ms after navigation cold (%.0f bytes), %.0f ms and %.0f ms warm (%.0f bytes)",
		cold, changed, coldChanges, coldSize, warm, warmChanges, warmSize)
	assert.Positive(t, changed, "the generated ledger has rating changes in its last 30 days")
	// The times are reported, not asserted: a timed test fails on a loaded
	// machine and proves nothing on a quiet one (docs/performance.md has the
	// figures and this command). The size is the page's own and is checked.
	assert.Less(t, coldSize, float64(firstLoadBudget), "the first load stays under its budget")
	shots(t, ctx, "first-load-200")
}

// TestBrowserSplits checks the page on an instrument with a split (issue 12,
// CONTRACT section 7): the card says which split adjusted it, the explain
// table gives the target as published, the factor and the adjusted target,
// the charts mark the split, and the Prices control shows the figures as
// published, in the address too.
func TestBrowserSplits(t *testing.T) {
	skipShort(t, "drives a headless browser")
	t.Parallel()
	exe := chromium(t)
	c := newCLI(t)
	rows := filepath.Join(t.TempDir(), "splt.jsonl")
	require.NoError(t, os.WriteFile(rows, []byte(`{"type":"rating","instrument":"SPLT","analyst":"a@firm","rating":"buy","target":"480","currency":"USD","at":"2025-03-03"}
{"type":"close","instrument":"SPLT","price":"400","currency":"USD","at":"2025-03-07"}
{"type":"split","instrument":"SPLT","ratio":"4:1","at":"2025-03-10"}
{"type":"close","instrument":"SPLT","price":"100","currency":"USD","at":"2025-03-10"}
`), 0o600))
	store := newStore(t)
	c.ok(t, "import", rows, "--store", store)
	s := startServe(t, c, "--store", store)
	ctx := pageBrowser(t, exe, s.url+"/instruments/SPLT?as_of=2025-03-10&range=3")
	settle(t, ctx)
	explainRow := func() []string {
		return js[[]string](t, ctx, `[...document.querySelectorAll('#explain tbody tr td')].slice(2, 6).map((td) => td.textContent)`)
	}
	waitFor := func(cond string) {
		t.Helper()
		err := waitFor(ctx, cond, 30*time.Second)
		require.NoError(t, err, cond)
	}

	t.Run("issue 12: adjusted by default, the split named, target x factor, the chart's marker", func(t *testing.T) {
		card := readCard(t, ctx)
		assert.Equal(t, []string{"120.00 USD", "100.00 on 10 Mar 2025", "20.00 %"}, []string{card["mean-target"], card["close"], card["upside"]})
		assert.Equal(t, "Adjusted for splits: 4:1 on 10 Mar 2025.", text(t, ctx, "#card-splits"))
		assert.Equal(t, "split-adjusted", js[string](t, ctx, `document.getElementById('adjusted').selectedOptions[0].textContent`))
		assert.True(t, visible(t, ctx, `#explain th[data-key="adjusted_target"]`), "the split columns show when a split moves a target")
		assert.Equal(t, []string{"buy", "480.00", "1/4", "120.00"}, explainRow())
		assert.Contains(t, js[string](t, ctx, `document.getElementById('chart-targets').alt`), "Splits: 4:1 on 2025-03-10.")
		assert.Contains(t, js[string](t, ctx, `document.getElementById('chart-ratings').alt`), "Splits: 4:1 on 2025-03-10.")
		shots(t, ctx, "issue12-splits-adjusted", ".chart")
	})

	t.Run("issue 12: as published, from the Prices control and from the address", func(t *testing.T) {
		change(t, ctx, map[string]string{"adjusted": "false"})
		waitFor(`document.getElementById('card').dataset.state === 'ready' && document.getElementById('card-mean-target').textContent.startsWith('480')`)
		card := readCard(t, ctx)
		assert.Equal(t, []string{"480.00 USD", "100.00 on 10 Mar 2025", "380.00 %"}, []string{card["mean-target"], card["close"], card["upside"]})
		assert.Equal(t, "Prices and targets as published, not adjusted for splits.", text(t, ctx, "#card-splits"))
		assert.Equal(t, "/instruments/SPLT?as_of=2025-03-10&range=3&adjusted=false", js[string](t, ctx, `location.pathname + location.search`))
		assert.False(t, visible(t, ctx, `#explain th[data-key="adjusted_target"]`), "no split moves a target as published")
		waitFor(`document.getElementById('chart-targets').alt.includes('mean target 480 USD')`)
		assert.Contains(t, js[string](t, ctx, `document.getElementById('chart-targets').alt`), "Splits: 4:1 on 2025-03-10.", "marked as published too")
		shots(t, ctx, "issue12-splits-published")

		open(t, ctx, s.url+"/instruments/SPLT?as_of=2025-03-10&adjusted=false")
		assert.Equal(t, "false", js[string](t, ctx, `document.getElementById('adjusted').value`))
		assert.Equal(t, "480.00 USD", readCard(t, ctx)["mean-target"])
	})
}

// topStore is the demo with one analyst who can be ranked for top=N: five
// buy ratings of TOPX in 2023 that rose 100 to 120 within their year (5
// scored rating calls, success 100 %), and a buy of BABA at 170 on 5
// September 2025. As of 11 September 2025 the top 10 is that analyst
// alone: the demo's own analysts have at most one scored rating call.
func topStore(t *testing.T, c *cli) string {
	t.Helper()
	store := sharedDemo(t, c)
	var rows strings.Builder
	for m := 1; m <= 5; m++ {
		month := "0" + string(rune('0'+m))
		rows.WriteString(`{"type":"close","instrument":"TOPX","price":"100","currency":"USD","at":"2023-` + month + `-02"}` + "\n")
		rows.WriteString(`{"type":"rating","instrument":"TOPX","analyst":"z.top@summit","firm":"Summit Research","rating":"buy","currency":"USD","at":"2023-` + month + `-02"}` + "\n")
		rows.WriteString(`{"type":"close","instrument":"TOPX","price":"120","currency":"USD","at":"2024-` + month + `-01"}` + "\n")
	}
	rows.WriteString(`{"type":"rating","instrument":"BABA","analyst":"z.top@summit","firm":"Summit Research","rating":"buy","target":"170","currency":"USD","at":"2025-09-05"}` + "\n")
	file := filepath.Join(t.TempDir(), "top.jsonl")
	require.NoError(t, os.WriteFile(file, []byte(rows.String()), 0o644))
	c.ok(t, "import", file, "--store", store)
	return store
}

// settleAnalyst waits until an analyst page or the ranking shows its
// answer (the analyst's charts drawn) or an error.
func settleAnalyst(t *testing.T, ctx context.Context) {
	t.Helper()
	err := waitFor(ctx, `(() => {
		if (!document.getElementById('error').hidden) return true;
		if (!document.getElementById('ranking').hidden) return document.getElementById('ranking-when-line').textContent !== '';
		return document.getElementById('analyst-card').dataset.state === 'ready' &&
			(document.querySelectorAll('#analyst-charts svg').length > 0 || !document.getElementById('analyst-charts-note').hidden);
	})()`, 40*time.Second)
	require.NoError(t, err, "the analyst page shows neither an answer nor an error: %s", js[string](t, ctx, `location.href`))
}

// openAnalyst navigates to an analyst page or the ranking and waits for it.
func openAnalyst(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(url)))
	settleAnalyst(t, ctx)
}

// cells reads a table's rows as shown, cell by cell.
func cells(t *testing.T, ctx context.Context, table string) [][]string {
	t.Helper()
	return js[[][]string](t, ctx, `[...document.querySelectorAll('`+table+` tbody tr')].map((tr) => [...tr.children].map((td) => td.textContent.trim()))`)
}

// TestBrowserAnalyst checks the analyst pages of issue 15: the ranking, an
// analyst's scores, calls and charts against the API's JSON, the links
// from analyst names, and the instrument page's "top analysts" switch.
func TestBrowserAnalyst(t *testing.T) {
	skipShort(t, "drives a headless browser")
	t.Parallel()
	exe := chromium(t)
	c := newCLI(t)
	store := topStore(t, c)
	s := startServe(t, c, "--store", store)
	ctx := pageBrowser(t, exe, s.url+"/analysts/a.schmidt@rheinland?as_of=2026-12-01")
	settleAnalyst(t, ctx)

	t.Run("an analyst's scores, calls and chart are the API's", func(t *testing.T) {
		var report struct {
			Summary map[string]any
			Calls   []map[string]any
		}
		apiGet(t, s, "/api/v1/analysts/a.schmidt@rheinland?as_of=2026-12-01", &report)
		sum := report.Summary
		assert.Equal(t, []any{json.Number("2"), json.Number("2"), json.Number("100"), json.Number("32.91"), json.Number("50"), json.Number("4.92")},
			[]any{sum["calls"], sum["closed"], sum["success_rate"], sum["avg_return_pct"], sum["accuracy"], sum["avg_error_pct"]})
		assert.Equal(t, "a.schmidt@rheinland", text(t, ctx, "#analyst-id"))
		assert.Equal(t, "Rheinland Research", text(t, ctx, "#analyst-firm"))
		assert.True(t, strings.HasPrefix(text(t, ctx, "#analyst-card-when"), "As of 1 Dec 2026, end of day UTC · as known now"), text(t, ctx, "#analyst-card-when"))
		assert.Equal(t, "2", text(t, ctx, "#analyst-calls"))
		assert.Equal(t, "2", text(t, ctx, "#analyst-closed"))
		assert.Equal(t, "100.00 % of 1 scored ratings", text(t, ctx, "#analyst-success"))
		assert.Equal(t, "32.91 %", text(t, ctx, "#analyst-return"))
		assert.Equal(t, "50.00 % of 2 scored targets", text(t, ctx, "#analyst-accuracy"))
		assert.Equal(t, "4.92 %", text(t, ctx, "#analyst-error"))

		require.Len(t, report.Calls, 2)
		rows := cells(t, ctx, "#calls")
		require.Len(t, rows, 2, "newest first")
		assert.Equal(t, []string{"BABA USD", "10 Sep 2025closed 10 Sep 2026", "target revised292c3746", "143.93", "166.00 USD", "152.98", "–",
			"no within the year, no at its end", "7.84"}, rows[0])
		assert.Equal(t, []string{"BABA USD", "1 Aug 2025closed 1 Aug 2026", "buy rating with a target82e9dc16", "115.10", "150.00 USD", "152.98", "32.91",
			"yes within the year, yes at its end", "1.99"}, rows[1])
		assert.Equal(t, []any{json.Number("143.93"), json.Number("166"), json.Number("152.98"), json.Number("7.84"), false},
			[]any{report.Calls[1]["p0"], report.Calls[1]["target_adjusted"], report.Calls[1]["p1"], report.Calls[1]["error_pct"], report.Calls[1]["met_within"]})
		assert.Equal(t, "/instruments/BABA?as_of=2025-09-10", js[string](t, ctx, `new URL(document.querySelector('#calls tbody a').href).pathname + new URL(document.querySelector('#calls tbody a').href).search`),
			"a call links to its instrument as of the day it was made")

		require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#calls th[data-key="return_pct"] button`))))
		assert.Equal(t, "32.91", cells(t, ctx, "#calls")[0][6], "sorted by return, the unscored call last")

		assert.Equal(t, 1, js[int](t, ctx, `document.querySelectorAll('#analyst-charts svg').length`))
		assert.Equal(t, "BABA (USD): 2 targets against the close", text(t, ctx, "#analyst-charts figcaption"))
		// The closes drawn are the history's, each once: the same history
		// the page asks for, from 30 days before the first call to as_of.
		var history []map[string]any
		apiGet(t, s, "/api/v1/instruments/BABA/history?from=2025-07-02&to=2026-12-01&every=day", &history)
		closes := map[any]bool{}
		for _, row := range history {
			if row["close_at"] != nil {
				closes[row["close_at"]] = true
			}
		}
		require.Len(t, closes, 16)
		assert.Equal(t, "2 targets: 1 met within the year, 1 missed, 0 still open; 16 closes from 27 Jun 2025 to 12 Sep 2025",
			text(t, ctx, "#analyst-charts svg desc"))
		assert.Equal(t, []string{"call met", "call missed"}, js[[]string](t, ctx, `[...document.querySelectorAll('#analyst-charts g.call')].map((g) => g.getAttribute('class'))`))
		assert.Equal(t, []string{"166.00", "152.98"}[0], js[string](t, ctx, `document.querySelectorAll('#analyst-charts text.axis')[0].textContent`), "the highest value on the axis")
		shots(t, ctx, "analyst-page")
		shots(t, ctx, "analyst-page-charts", "#analyst-charts")
	})

	t.Run("the ranking lists the API's order with links", func(t *testing.T) {
		var want []map[string]any
		apiGet(t, s, "/api/v1/analysts?as_of=2026-12-01&rank=return", &want)
		openAnalyst(t, ctx, s.url+"/analysts?as_of=2026-12-01&rank=return")
		rows := cells(t, ctx, "#ranking-table")
		require.Len(t, rows, len(want))
		require.Equal(t, 18, len(want), "17 demo analysts and z.top")
		for i, w := range want {
			assert.Equal(t, w["analyst"], strings.TrimSuffix(rows[i][1], w["firm"].(string)), "row %d", i)
		}
		assert.Equal(t, []any{"p.rossi@lagoon-capital", json.Number("42.57"), json.Number("50"), json.Number("2")},
			[]any{want[0]["analyst"], want[0]["avg_return_pct"], want[0]["accuracy"], want[0]["scored_target_calls"]})
		assert.Equal(t, []string{"1", "p.rossi@lagoon-capitalLagoon Capital", "2", "2", "100.00of 1", "42.57", "50.00of 2", "8.28"}, rows[0])
		assert.Equal(t, "/analysts/p.rossi%40lagoon-capital?as_of=2026-12-01", js[string](t, ctx,
			`(() => { const u = new URL(document.querySelector('#ranking-table a.who').href); return u.pathname + u.search; })()`))
		assert.Equal(t, "return", js[string](t, ctx, `document.getElementById('rank').value`))
		shots(t, ctx, "analyst-ranking")

		openAnalyst(t, ctx, s.url+"/analysts?min_closed=abc")
		assert.Contains(t, text(t, ctx, "#error"), `min_closed "abc" must be a whole number`)
		assert.False(t, visible(t, ctx, "#ranking-table"), "no table beside the error")
		assert.Equal(t, "abc", js[string](t, ctx, `document.getElementById('min-closed').value`), "the box keeps what the address says")
	})

	t.Run("a bad address shows the error alone", func(t *testing.T) {
		openAnalyst(t, ctx, s.url+"/analysts/a.schmidt@rheinland?as_of=2025-13-45")
		assert.Contains(t, text(t, ctx, "#error"), "as_of")
		assert.Contains(t, text(t, ctx, "#error"), `"2025-13-45"`)
		assert.False(t, visible(t, ctx, "#analyst-card"))
		openAnalyst(t, ctx, s.url+"/analysts/nobody@nowhere")
		assert.Contains(t, text(t, ctx, "#error"), "Not found.")
		assert.Contains(t, text(t, ctx, "#error"), "nobody@nowhere")
		assert.False(t, visible(t, ctx, "#analyst-card"))
		assert.False(t, visible(t, ctx, "#calls"))
	})

	t.Run("an analyst's name in the explain table opens the analyst as of that date", func(t *testing.T) {
		open(t, ctx, s.url+"/instruments/BABA?as_of=2025-09-11")
		for _, sel := range []string{"#explain a.who", "#log-section"} {
			assert.True(t, js[bool](t, ctx, `!!document.querySelector('`+sel+`')`), sel)
		}
		follow(t, ctx, `#explain a.who[href^="/analysts/a.schmidt"]`)
		settleAnalyst(t, ctx)
		assert.Equal(t, "/analysts/a.schmidt%40rheinland?as_of=2025-09-11", js[string](t, ctx, `location.pathname + location.search`))
		var report struct{ Summary map[string]any }
		apiGet(t, s, "/api/v1/analysts/a.schmidt@rheinland?as_of=2025-09-11", &report)
		assert.Equal(t, []any{json.Number("2"), json.Number("0"), nil}, []any{report.Summary["calls"], report.Summary["closed"], report.Summary["success_rate"]})
		assert.Equal(t, "2", text(t, ctx, "#analyst-calls"))
		assert.Equal(t, "0", text(t, ctx, "#analyst-closed"))
		assert.Equal(t, "– of 0 scored ratings", text(t, ctx, "#analyst-success"))
		assert.Equal(t, []string{"call open", "call open"}, js[[]string](t, ctx, `[...document.querySelectorAll('#analyst-charts g.call')].map((g) => g.getAttribute('class'))`))

		// The feed and the event log name analysts with the same links.
		open(t, ctx, s.url+"/instruments/BABA?as_of=2025-09-11")
		require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#feed-section summary"))))
		err := waitFor(ctx, `document.querySelectorAll('#feed tbody tr').length === 35`, 20*time.Second)
		require.NoError(t, err)
		assert.Equal(t, 35, js[int](t, ctx, `document.querySelectorAll('#feed tbody td:nth-child(2) a[href^="/analysts/"]').length`), "every name in the feed links")
		assert.Equal(t, 35, js[int](t, ctx, `document.querySelectorAll('#log tbody td:nth-child(5) a[href^="/analysts/"]').length`), "every name in the log links")
	})

	t.Run("the top analysts switch counts the cut on the card, the explain and the history", func(t *testing.T) {
		open(t, ctx, s.url+"/instruments/BABA?as_of=2025-09-11")
		require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#top-on"))))
		err := waitFor(ctx, `document.getElementById('card-when').textContent.endsWith('only the top 10 analysts')`, 20*time.Second)
		require.NoError(t, err, "the card counts the top 10")
		settle(t, ctx)
		assert.Equal(t, "?as_of=2025-09-11&top=10", js[string](t, ctx, `location.search`))
		var want map[string]any
		apiGet(t, s, "/api/v1/instruments/BABA/consensus?as_of=2025-09-11&top=10&explain=true", &want)
		assert.Equal(t, []any{json.Number("1"), json.Number("170")}, []any{want["analysts"], want["mean_target"]})
		card := readCard(t, ctx)
		assert.Equal(t, "1", card["analysts"])
		assert.Equal(t, "170.00 USD", card["mean-target"])
		assert.Equal(t, "Counting only the top 10 analysts by success rate as of 11 Sep 2025, end of day UTC: 1 analyst had at least 5 scored rating calls then, "+
			"and the cut is z.top@summit (100.00 % of 5). The others show as “not top” below.", text(t, ctx, "#top-line"))
		statuses := js[[]string](t, ctx, `[...document.querySelectorAll('#explain tbody tr')].map((tr) => tr.querySelector('.who').textContent + ' ' + tr.querySelector('.status').textContent)`)
		assert.Len(t, statuses, len(want["explain"].([]any)))
		assert.Contains(t, statuses, "z.top@summit counted")
		assert.Contains(t, statuses, "a.schmidt@rheinland not top")
		// The history may be asked for after the card is drawn: wait for the
		// three requests (20 s at most) before reading them.
		const topAsked = `performance.getEntriesByType('resource').map((e) => e.name).filter((n) => /\/(history|chart\.svg)\?/.test(n) && n.includes('top=10'))`
		_ = waitFor(ctx, topAsked+`.length >= 3`, 20*time.Second)
		asked := js[[]string](t, ctx, topAsked)
		assert.Len(t, asked, 3, "the history and both charts count the top 10: %v", asked)
		assert.False(t, js[bool](t, ctx, `document.getElementById('first-published').checked`))
		shots(t, ctx, "analyst-top-switch", "#top-line")

		require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#first-published"))))
		err = waitFor(ctx, `!document.getElementById('card-when').textContent.includes('only the top') && document.getElementById('card').dataset.state === 'ready'`, 20*time.Second)
		require.NoError(t, err, "as first published turns the top switch off (the API does not combine them)")
		assert.False(t, js[bool](t, ctx, `document.getElementById('top-on').checked`))
		assert.False(t, visible(t, ctx, "#top-line"))
		assert.Equal(t, "?as_of=2025-09-11", js[string](t, ctx, `location.search`))
		assert.True(t, visible(t, ctx, "#card"), "no error: %s", text(t, ctx, "#error"))

		open(t, ctx, s.url+"/instruments/BABA?as_of=2025-09-11&top=0")
		assert.Contains(t, text(t, ctx, "#error"), "top", "an address's bad top is the API's refusal, not another answer")
		assert.Contains(t, text(t, ctx, "#error"), "must be 1 or more")
		assert.False(t, visible(t, ctx, "#card"))
	})
}
