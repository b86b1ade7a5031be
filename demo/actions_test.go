package demo_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/demo"
	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
	"github.com/consensus-ledger/consensus/ledger"
)

// TestBABAActions is the worked example of docs/methodology.md: the action
// of every BABA rating, revision and withdrawal of the demo, as the log
// shows them now and, for the 1650 typo, just before its retraction.
func TestBABAActions(t *testing.T) {
	ctx := context.Background()
	l := loadedDemo(t)
	entries, err := l.Log(ctx, "BABA")
	require.NoError(t, err)
	// "analyst type date" -> "rating_action/target_action", "-" for null.
	want := map[string]string{
		"v.ivanova@ural-capital RatingAdded 2025-03-10":        "initiation/set",
		"y.zhang@summit-asia RatingAdded 2025-03-20":           "initiation/set",
		"l.wang@pacific-crest RatingAdded 2025-04-02":          "initiation/set",
		"n.ahmed@crescent-capital RatingAdded 2025-04-15":      "initiation/set",
		"b.oconnor@liffey-partners RatingAdded 2025-05-02":     "initiation/set",
		"r.patel@northgate RatingAdded 2025-05-15":             "initiation/set",
		"d.kim@hanriver RatingAdded 2025-05-15":                "initiation/set",
		"o.berg@fjord-securities RatingAdded 2025-05-20":       "initiation/set",
		"j.ortiz@meridian RatingAdded 2025-06-20":              "initiation/set",
		"h.fischer@nordlicht RatingAdded 2025-06-25":           "initiation/set",
		"c.li@jade-harbour RatingAdded 2025-06-30":             "initiation/set",
		"e.moreau@rive-gauche RatingAdded 2025-07-01":          "initiation/set",
		"m.keller@alpenbank RatingAdded 2025-07-10":            "initiation/set",
		"p.rossi@lagoon-capital RatingAdded 2025-07-15":        "initiation/set",
		"g.novak@danube-equities RatingAdded 2025-07-22":       "initiation/set",
		"r.patel@northgate TargetRevised 2025-07-25":           "-/raised", // 140 -> 155
		"a.schmidt@rheinland RatingAdded 2025-08-01":           "initiation/set",
		"b.oconnor@liffey-partners RatingAdded 2025-08-01":     "upgrade/raised", // hold 115 -> buy 145
		"t.nguyen@mekong-equity RatingAdded 2025-08-04":        "initiation/set",
		"o.berg@fjord-securities RatingWithdrawn 2025-08-15":   "coverage_dropped/-",
		"k.osei@savanna-securities RatingAdded 2025-08-20":     "initiation/set",
		"l.wang@pacific-crest TargetRevised 2025-08-29":        "-/raised", // 150 -> 200
		"s.tanaka@kanto RatingAdded 2025-08-29":                "initiation/set",
		"d.kim@hanriver RatingAdded 2025-08-29":                "upgrade/raised",     // neutral 130 -> buy 168
		"y.zhang@summit-asia TargetRevised 2025-08-29":         "-/raised",           // 130 -> 158
		"n.ahmed@crescent-capital RatingAdded 2025-08-29":      "reiteration/raised", // market_perform and neutral are both hold; 120 -> 140
		"j.ortiz@meridian TargetRevised 2025-09-01":            "-/raised",
		"m.keller@alpenbank TargetRevised 2025-09-02":          "-/raised",
		"p.rossi@lagoon-capital TargetRevised 2025-09-03 1650": "-/-",      // retracted: the ledger derives nothing from it
		"p.rossi@lagoon-capital TargetRevised 2025-09-03 165":  "-/raised", // 140 -> 165, never against 1650
		"b.oconnor@liffey-partners TargetRevised 2025-09-04":   "-/raised",
		"r.patel@northgate TargetRevised 2025-09-05":           "-/raised",
		"f.silva@atlantico RatingAdded 2025-09-08":             "initiation/set",
		"a.schmidt@rheinland TargetRevised 2025-09-10":         "-/raised",
	}
	got := map[string]string{}
	var typo ledger.LogEntry
	for _, e := range entries {
		key, ok := actionKey(e.Event.Event)
		if !ok {
			continue
		}
		got[key] = actionString(e.Actions)
		if key == "p.rossi@lagoon-capital TargetRevised 2025-09-03 1650" {
			typo = e
			require.NotNil(t, e.RetractedBy)
		}
	}
	assert.Equal(t, want, got)

	// Known just before its retraction was recorded, the typo was a raise.
	require.True(t, typo.RetractedBy.RecordedAt.After(typo.Event.RecordedAt))
	then, err := l.LogAt(ctx, "BABA", typo.Event.RecordedAt)
	require.NoError(t, err)
	last := then[len(then)-1]
	require.Equal(t, typo.Event.ID, last.Event.ID, "the log known then ends with the typo")
	assert.Nil(t, last.RetractedBy, "its retraction was not recorded yet")
	assert.Equal(t, "-/raised", actionString(last.Actions))
}

// loadedDemo is a ledger over a new store holding the demo, recorded at the
// real clock's times (each event at its own).
func loadedDemo(t *testing.T) *ledger.Ledger {
	t.Helper()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "ledger.db"), sqlite.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, store.Close()) })
	l := ledger.New(store)
	_, err = demo.Load(context.Background(), l)
	require.NoError(t, err)
	return l
}

func actionKey(e domain.Event) (string, bool) {
	day := func(t time.Time) string { return t.Format(time.DateOnly) }
	switch e := e.(type) {
	case domain.RatingAdded:
		return string(e.Analyst) + " RatingAdded " + day(e.EffectiveAt), true
	case domain.TargetRevised:
		key := string(e.Analyst) + " TargetRevised " + day(e.EffectiveAt)
		if e.Analyst == "p.rossi@lagoon-capital" {
			key += " " + e.Target.String()
		}
		return key, true
	case domain.RatingWithdrawn:
		return string(e.Analyst) + " RatingWithdrawn " + day(e.EffectiveAt), true
	}
	return "", false
}

func actionString(a domain.Actions) string {
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	return dash(string(a.Rating)) + "/" + dash(string(a.Target))
}
