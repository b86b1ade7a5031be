package ledger

import (
	"cmp"
	"context"
	"runtime"
	"slices"
	"time"

	"github.com/consensus-ledger/consensus/domain"
)

// FeedChange is one row of the rating-change feed across instruments.
type FeedChange struct {
	Instrument domain.Symbol
	Currency   domain.Currency
	domain.Change
}

// Feed is the rating changes of every instrument in a period, newest first.
type Feed struct {
	Total   int          // changes in the period, before the limit
	Changes []FeedChange // the newest min(Total, limit)
}

// newerChange orders the feed: latest effective first, then latest
// recorded, then by instrument and, within one, latest in stream order.
func newerChange(a, b FeedChange) int {
	if c := b.Event.Event.Effective().Compare(a.Event.Event.Effective()); c != 0 {
		return c
	}
	if c := b.Event.RecordedAt.Compare(a.Event.RecordedAt); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Instrument, b.Instrument); c != 0 {
		return c
	}
	return cmp.Compare(b.Event.Version, a.Event.Version)
}

// Feed returns every instrument's ratings, revisions and withdrawals
// effective in [from, to] as known at knownAt, with their actions (CONTRACT
// section 8), newest first, at most limit of them. Each instrument is folded
// once (domain.Timeline.Changes); each worker keeps only its newest limit
// rows, so memory is bounded by limit, not by the period.
func (l *Ledger) Feed(ctx context.Context, from, to, knownAt time.Time, limit int) (Feed, error) {
	now, err := l.instrumentsNow(ctx)
	if err != nil {
		return Feed{}, err
	}
	symbols := now.symbols
	type part struct {
		total int
		rows  []FeedChange
	}
	parts := make([]part, runtime.GOMAXPROCS(0)) // by worker: eachTimeline runs that many
	err = l.eachTimeline(ctx, symbols, knownAt, false, func(w int, sym domain.Symbol, tl *domain.Timeline) {
		p := &parts[w]
		for _, c := range tl.Changes(from, to) {
			p.total++
			p.rows = append(p.rows, FeedChange{Instrument: sym, Currency: tl.Currency, Change: c})
		}
		// Keep the newest limit rows: sort and cut when twice as many are held.
		if len(p.rows) > 2*limit {
			slices.SortFunc(p.rows, newerChange)
			p.rows = slices.Clip(p.rows[:limit])
		}
	})
	if err != nil {
		return Feed{}, err
	}
	var out Feed
	for _, p := range parts {
		out.Total += p.total
		out.Changes = append(out.Changes, p.rows...)
	}
	slices.SortFunc(out.Changes, newerChange)
	if len(out.Changes) > limit {
		out.Changes = slices.Clip(out.Changes[:limit])
	}
	return out, nil
}
