package projections

import (
	"slices"
	"time"

	"github.com/consensus-ledger/consensus/domain"
)

// Published is one row of a first-published history (`history
// --first-published`, CONTRACT section 9): the consensus as the ledger
// showed it at the row's own as_of, with whether the same row as known at
// the question's known-at time reads differently. Its JSON is the row's
// contract JSON with "restated" added last.
type Published struct {
	Consensus
	// Restated is true where Restated(row, the row known at KnownAt) holds.
	Restated bool `json:"restated"`
}

// PublishedHistory is a first-published history: its rows, and the time the
// ledger first recorded anything about the instrument, before which it
// published nothing (rows known only before then are left out).
type PublishedHistory struct {
	Rows          []Published
	FirstRecorded time.Time
}

// Split returns the rows' consensus and, one entry per row, whether it is
// restated: the shape of renderers that draw or print plain rows.
func (h PublishedHistory) Split() (rows []Consensus, restated []bool) {
	rows, restated = make([]Consensus, len(h.Rows)), make([]bool, len(h.Rows))
	for i, r := range h.Rows {
		rows[i], restated[i] = r.Consensus, r.Restated
	}
	return rows, restated
}

// Restated reports whether a row as first published differs from the same
// row known later: any figure of the row's contract JSON other than
// known_at (and the optional explanation and top-analyst cut, which a
// first-published history never carries: --top and --first-published are
// refused together).
// It is the one statement of what "restated" means; the test holds it to
// every field of Consensus, so a field added there must be added here.
func Restated(published, known Consensus) bool {
	a, b := published, known
	return a.Instrument != b.Instrument || a.Currency != b.Currency || !a.AsOf.Equal(b.AsOf) ||
		a.WindowDays != b.WindowDays || a.Analysts != b.Analysts || a.Buy != b.Buy || a.Hold != b.Hold ||
		a.Sell != b.Sell || !sameDecimal(a.MeanRating, b.MeanRating) || a.Label != b.Label ||
		a.Targets != b.Targets || !sameDecimal(a.MeanTarget, b.MeanTarget) ||
		!sameDecimal(a.MedianTarget, b.MedianTarget) || !sameDecimal(a.HighTarget, b.HighTarget) ||
		!sameDecimal(a.LowTarget, b.LowTarget) || !sameDecimal(a.StddevTarget, b.StddevTarget) ||
		!sameDecimal(a.Close, b.Close) || !sameTime(a.CloseAt, b.CloseAt) || !sameDecimal(a.UpsidePct, b.UpsidePct) ||
		a.Adjusted != b.Adjusted || !slices.EqualFunc(a.Splits, b.Splits, sameSplit)
}

func sameSplit(a, b AppliedSplit) bool {
	return a.EventID == b.EventID && a.Ratio == b.Ratio && a.EffectiveAt.Equal(b.EffectiveAt)
}

// sameDecimal compares two optional figures; Decimal keeps canonical text,
// so equal numbers have equal text.
func sameDecimal(a, b *Decimal) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// FirstPublished computes the history of History(symbol, ix.History(), from,
// to, every, q) as first published: row d as known at min(d, q.KnownAt), so
// a row whose as_of is at or after q.KnownAt is the plain row. A row known
// only before the instrument's first recording was never published and is
// left out, so a backfilled instrument's history before its backfill has no
// rows at all.
//
// Every row is on the basis of its own as_of (--basis each), as `show` gave
// it at that moment, and is compared with the same row known at q.KnownAt on
// that basis: a row is restated because the ledger learned something about
// its day, never because a later split moved the series' basis.
//
// The plain rows take one pass (History); the earlier rows walk a
// domain.PublishedCursor, which folds a live ledger once and refolds only
// after late recordings, instead of folding the history once per row.
func FirstPublished(symbol domain.Symbol, ix *domain.Index, from, to time.Time, every Every, q Query) PublishedHistory {
	history := ix.History()
	out := PublishedHistory{Rows: []Published{}}
	if len(history) == 0 {
		return out
	}
	out.FirstRecorded = history[0].RecordedAt.UTC() // recorded times never decrease along a stream
	q.EachBasis, q.Basis = true, time.Time{}
	known := History(symbol, history, from, to, every, q)
	cursor := ix.PublishedCursor()
	for _, row := range known {
		switch {
		case row.AsOf.Before(out.FirstRecorded) || q.KnownAt.Before(out.FirstRecorded):
			// Known at a time before anything about the instrument was.
		case !row.AsOf.Before(q.KnownAt):
			out.Rows = append(out.Rows, Published{Consensus: row})
		default:
			first := Compute(symbol, cursor.AdvanceTo(row.AsOf), q)
			out.Rows = append(out.Rows, Published{Consensus: first, Restated: Restated(first, row)})
		}
	}
	return out
}
