package test

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBrowserActionsKnownAt: the instrument page shows each event's rating
// and target actions (CONTRACT section 8) as known at the page's known_at,
// in the explain table, the event log and the rating changes alike. On the
// demo's BABA, p.rossi (buy at 165) keys 1700 instead of 170 on 10
// September, then 170 on the 11th, and the 1700 is retracted: known before
// the retraction the 170 is a cut (against 1700), known now a raise
// (against 165), and the 1700 a raise then, retracted (no action) now.
func TestBrowserActionsKnownAt(t *testing.T) {
	skipShort(t, "drives a headless browser")
	t.Parallel()
	exe := chromium(t)
	c := newCLI(t)
	store := sharedDemo(t, c)
	rossi := []string{"BABA", "--analyst", "p.rossi@lagoon-capital", "--currency", "USD", "--store", store, "--json"}
	typo := object(t, c.ok(t, append([]string{"revise", "--target", "1700", "--at", "2025-09-10"}, rossi...)...).stdout)["event_id"].(string)
	fixed := object(t, c.ok(t, append([]string{"revise", "--target", "170", "--at", "2025-09-11"}, rossi...)...).stdout)
	known := fixed["recorded_at"].(string)
	id := fixed["event_id"].(string)
	c.ok(t, "retract", typo, "--reason", "typo: 1700 keyed instead of 170", "--store", store)

	s := startServe(t, c, "--store", store)
	page := s.url + "/instruments/BABA?as_of=2025-09-11&range=3"
	ctx := pageBrowser(t, exe, page+"&known_at="+url.QueryEscape(known))
	for _, k := range []struct {
		name, address        string
		explain, fixed, typo string
		typoRetracted        bool
	}{
		{"known before the retraction", page + "&known_at=" + url.QueryEscape(known), "cut", "cut", "raised", false},
		{"known now", page, "raised", "raised", "–", true},
	} {
		t.Run(k.name, func(t *testing.T) {
			open(t, ctx, k.address)
			// The explain table names the event that set p.rossi's target,
			// with its action.
			events := text(t, ctx, `#explain tbody tr:has(a[title="`+id+`"]) td.events`)
			assert.Contains(t, events, "target "+id[:8]+" ("+k.explain+")")

			js[bool](t, ctx, `document.getElementById('log-section').open = true, document.getElementById('feed-section').open = true`)
			require.NoError(t, waitFor(ctx, `!!document.getElementById('event-`+id+`') && !!document.querySelector('#feed a[title="`+id+`"]')`, 20*time.Second))
			assert.Equal(t, k.fixed, text(t, ctx, `#event-`+id+` td.action`), "the event log")
			assert.Equal(t, k.fixed, text(t, ctx, `#feed tr:has(a[title="`+id+`"]) td.action`), "the rating changes")
			assert.Equal(t, k.typo, text(t, ctx, `#event-`+typo+` td.action`), "the typo in the event log")
			assert.Equal(t, k.typoRetracted, js[bool](t, ctx, `document.getElementById('event-`+typo+`').classList.contains('retracted')`))
		})
	}
}
