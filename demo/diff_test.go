package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/demo"
	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/projections"
)

// TestBABADiffNamesTheRetraction is the worked example of `consensus diff`
// (CONTRACT section 9): known just before the retraction of the 1650 typo
// was recorded, against known now, over 1 to 5 September. From the 3rd,
// when the typo was effective, every changed mean, high and stddev names
// the retraction among its causes, and both values are what show answers
// at either knowledge time.
func TestBABADiffNamesTheRetraction(t *testing.T) {
	ctx := context.Background()
	l := loadedDemo(t)

	typoID := demo.Step{Key: "baba-rossi-typo"}.ID()
	retractionID := demo.Step{Key: "baba-rossi-typo-retraction"}.ID()
	var typo, retraction domain.Recorded
	events, err := l.Load(ctx, "BABA")
	require.NoError(t, err)
	for _, r := range events {
		switch r.ID {
		case typoID:
			typo = r
		case retractionID:
			retraction = r
		}
	}
	require.True(t, retraction.RecordedAt.After(typo.RecordedAt))
	t1 := typo.RecordedAt // the typo known, its retraction not yet
	now := l.Now()

	d := projections.DiffQuery{From: day(t, "2025-09-01"), To: day(t, "2025-09-05"), Every: projections.Day,
		FromKnown: t1, ToKnown: now, Window: projections.DefaultWindow}
	rows, err := l.Diff(ctx, "BABA", d)
	require.NoError(t, err)

	// The figures of the targets, before and after, as of each day. Before
	// 3 September the typo was not effective, so no target figure changed
	// (only the closes, all recorded after the typo, appear).
	type change struct{ before, after string }
	want := map[string]map[string]change{
		"2025-09-03": {"mean_target": {"251.41", "164.06"}, "high_target": {"1650", "200"}, "stddev_target": {"349.99", "15.41"}},
		"2025-09-04": {"mean_target": {"251.41", "164.65"}, "high_target": {"1650", "200"}, "stddev_target": {"349.99", "14.85"}},
		"2025-09-05": {"mean_target": {"251.41", "165.53"}, "median_target": {"163", "165"}, "high_target": {"1650", "200"}, "stddev_target": {"349.99", "14.69"}},
	}
	got := map[string]map[string]change{}
	for _, r := range rows {
		date := r.AsOf.Format(time.DateOnly)
		switch r.Field {
		case "mean_target", "median_target", "high_target", "stddev_target":
			if got[date] == nil {
				got[date] = map[string]change{}
			}
			got[date][r.Field] = change{r.Before.String(), r.After.String()}
			require.NotEmpty(t, r.Causes)
			first := r.Causes[0] // in stream order, the retraction comes first
			assert.Equal(t, projections.Cause{EventID: retractionID, Type: domain.TypeEventRetracted,
				RecordedAt: retraction.RecordedAt.UTC(), EffectiveAt: day(t, "2025-09-03")}, first, "%s %s", date, r.Field)
		case "low_target", "targets", "analysts", "label", "mean_rating":
			t.Errorf("%s: %s changed from %s to %s; only the typo's figures and the closes should", date, r.Field, r.Before, r.After)
		}
		// Both values are show's at either knowledge time.
		for _, side := range []struct {
			known time.Time
			value projections.Figure
		}{{t1, r.Before}, {now, r.After}} {
			c, err := l.Show(ctx, "BABA", projections.Query{AsOf: r.AsOf, KnownAt: side.known, Window: projections.DefaultWindow})
			require.NoError(t, err)
			for _, f := range projections.DiffFields {
				if f.Name == r.Field {
					assert.Equal(t, side.value, f.Value(&c), "%s %s known at %s", date, r.Field, side.known)
				}
			}
		}
	}
	assert.Equal(t, want, got)
}

func day(t *testing.T, date string) time.Time {
	t.Helper()
	d, err := domain.ParseTime("date", date)
	require.NoError(t, err)
	return d
}
