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
	"testing"
	"time"

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
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.WindowSize(1400, 900))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
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
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		_, err = chromedp.Run(ctx, chromedp.Poll[bool](`(() => {
		if (!document.getElementById('error').hidden) return true;
		if (!document.getElementById('overview').hidden) return document.getElementById('overview-when-line').textContent !== '';
		const card = document.getElementById('card');
		const charts = [...document.querySelectorAll('.chart img')];
		return card.dataset.state === 'ready' && document.querySelectorAll('#trend tbody tr').length === 4 &&
			charts.every((img) => img.src.startsWith('blob:') && img.complete && img.naturalWidth > 0);
	})()`, chromedp.WithPollingTimeout(40*time.Second)))
		// A navigation under way replaces the page the poll ran in: poll the new one.
		if err == nil || !strings.Contains(err.Error(), "context") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({url: location.href, card: document.getElementById('card').dataset.state,
			trend: document.querySelectorAll('#trend tbody tr').length, error: document.getElementById('error').textContent,
			charts: [...document.querySelectorAll('.chart img')].map((img) => [img.src.slice(0, 10), img.complete, img.naturalWidth])})`))
		require.NoError(t, err, "the page shows neither an answer nor an error: %s", state)
	}
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

// shots saves full-page screenshots at 1400x900 and 390x844 into
// /tmp/web-shots (or $CONSENSUS_SCREENSHOTS) and returns to 1400x900.
func shots(t *testing.T, ctx context.Context, name string) {
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
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
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
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById('card-high-low').textContent === '1,650.00 / 140.00'`,
			chromedp.WithPollingTimeout(20*time.Second)))
		require.NoError(t, err, "just before the retraction, the wrong 1650 target counts: %v", readCard(t, ctx))
		assert.Equal(t, "251.41 USD", readCard(t, ctx)["mean-target"])
		assert.Equal(t, "?as_of=2025-09-11&known_at="+date+"T"+before+"Z", js[string](t, ctx, `location.search`))
		assert.Contains(t, text(t, ctx, "#card-when"), "as known at "+readableDay(date)+", "+before+" UTC")
		shots(t, ctx, "item1-known-just-before")

		change(t, ctx, map[string]string{"known-at-time": clockTime})
		_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById('card-mean-target').textContent === '162.59 USD'`,
			chromedp.WithPollingTimeout(20*time.Second)))
		require.NoError(t, err, "from the retraction's recording on, the 1650 is gone")
	})

	t.Run("item 1 and 5: the event log offers just before and at each event", func(t *testing.T) {
		open(t, ctx, s.url+"/instruments/BABA?as_of=2025-09-11#event-"+retract["event_id"].(string))
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll('#log tbody tr').length === 57`,
			chromedp.WithPollingTimeout(20*time.Second)))
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
		assert.Equal(t, "–", text(t, ctx, wrongRow+" td.action"), "the action column waits for section 8")
		shots(t, ctx, "item5-event-log")

		require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(row+" a.before"))))
		settle(t, ctx)
		assert.Equal(t, "251.41 USD", readCard(t, ctx)["mean-target"], "just before the retraction")
		assert.Contains(t, js[string](t, ctx, `location.search`), "known_at="+justBeforeStamp(t, recorded))
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(s.url+"/instruments/BABA?as_of=2025-09-11#event-"+retract["event_id"].(string))))
		_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll('#log tbody tr').length === 57`, chromedp.WithPollingTimeout(20*time.Second)))
		require.NoError(t, err)
		require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(row+" a.after"))))
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

var _ = emulation.SetEmulatedMedia
