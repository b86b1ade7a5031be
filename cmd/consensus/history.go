package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/projections"
)

type historyCmd struct {
	storeFlag
	pointFlags
	from, to, every string
	json, csv       bool
	top             string
	firstPublished  bool
}

func (c *historyCmd) usage() (string, string) {
	return "history SYMBOL --from D --to D [--every day|week|month] [--known-at T] [--unadjusted] [--basis last|each] [--top N | --first-published] [--json|--csv]",
		"Shows one consensus row per period end between two dates; with --first-published, each row as the ledger showed it at that date, restated rows marked."
}

func (c *historyCmd) define(fs *pflag.FlagSet) {
	c.storeFlag.define(fs)
	c.pointFlags.define(fs, false)
	fs.StringVar(&c.from, "from", "", "first date (required)")
	fs.StringVar(&c.to, "to", "", "last date (required)")
	fs.StringVar(&c.every, "every", "day", "period: day, week (ending Sunday) or month")
	fs.BoolVar(&c.json, "json", false, "print a JSON array")
	fs.BoolVar(&c.csv, "csv", false, "print CSV with a header row")
	fs.StringVar(&c.top, "top", "", "count only the N best analysts by success rate as of each row's own date")
	fs.BoolVar(&c.firstPublished, "first-published", false,
		"each row as known at its own date (or --known-at, if earlier), marked restated where it reads differently now")
}

// historyRows answers a history question from the read-only store the
// flags name, at the point in time they give: what history and chart share.
// With withSplits it also lists the splits effective between the first and
// the last row, which a chart marks.
func historyRows(ctx context.Context, a *app, store *storeFlag, point *pointFlags, sym domain.Symbol,
	from, to time.Time, every projections.Every, top string, withSplits bool) ([]projections.Consensus, []projections.AppliedSplit, error) {
	q, err := point.query(a)
	if err != nil {
		return nil, nil, err
	}
	n, err := parseTop(top)
	if err != nil {
		return nil, nil, err
	}
	l, closeStore, err := store.open(a, true)
	if err != nil {
		return nil, nil, err
	}
	defer closeStore()
	if n > 0 {
		if q.Tops, err = l.Tops(ctx, projections.RowTimes(from, to, every), q.KnownAt, n); err != nil {
			return nil, nil, err
		}
	}
	rows, err := l.History(ctx, sym, from, to, every, q)
	if err != nil || !withSplits || len(rows) == 0 {
		return rows, nil, err
	}
	splits, err := l.Splits(ctx, sym, rows[0].AsOf, rows[len(rows)-1].AsOf, q.KnownAt)
	return rows, splits, err
}

// publishedRows is historyRows as first published (--first-published).
func publishedRows(ctx context.Context, a *app, store *storeFlag, point *pointFlags, sym domain.Symbol,
	from, to time.Time, every projections.Every) (projections.PublishedHistory, error) {
	q, err := point.query(a)
	if err != nil {
		return projections.PublishedHistory{}, err
	}
	l, closeStore, err := store.open(a, true)
	if err != nil {
		return projections.PublishedHistory{}, err
	}
	defer closeStore()
	return l.FirstPublished(ctx, sym, from, to, every, q)
}

// nothingPublished is what a first-published history or chart without rows
// says instead of printing nothing: every row was known only before the
// ledger first recorded the instrument (a backfill recorded today has no
// first-published past).
func nothingPublished(sym domain.Symbol, from, to string, h projections.PublishedHistory) string {
	return fmt.Sprintf("No row of %s's history from %s to %s was published yet: the ledger first recorded %s at %s.",
		sym, from, to, sym, domain.FormatTime(h.FirstRecorded))
}

// parseRange parses --from and --to, which must not be in reverse order.
func parseRange(fromText, toText string) (from, to time.Time, err error) {
	if from, err = domain.ParseTime("from", fromText); err != nil {
		return
	}
	if to, err = domain.ParseTime("to", toText); err != nil {
		return
	}
	if to.Before(from) {
		err = &domain.ValidationError{Field: "to", Value: toText, Reason: "is before --from " + fromText}
	}
	return
}

// historyGrid reads --from, --to and --every of a history grid, refusing a
// grid of more rows than a history may have: what history and diff share.
func historyGrid(fromText, toText, everyText string) (from, to time.Time, every projections.Every, err error) {
	if from, to, err = parseRange(fromText, toText); err != nil {
		return
	}
	if every, err = projections.ParseEvery(everyText); err != nil {
		return
	}
	err = projections.CheckHistoryRange(from, to, every)
	return
}

func (c *historyCmd) run(ctx context.Context, a *app, args []string) error {
	if err := required(map[string]string{"from": c.from, "to": c.to}); err != nil {
		return err
	}
	if c.json && c.csv {
		return usagef("--json and --csv cannot be combined")
	}
	sym, err := oneSymbol(args)
	if err != nil {
		return err
	}
	from, to, every, err := historyGrid(c.from, c.to, c.every)
	if err != nil {
		return err
	}
	if c.firstPublished {
		if c.top != "" {
			return usagef("--top and --first-published cannot be combined: give one")
		}
		return c.runFirstPublished(ctx, a, sym, from, to, every)
	}
	rows, _, err := historyRows(ctx, a, &c.storeFlag, &c.pointFlags, sym, from, to, every, c.top, false)
	if err != nil {
		return err
	}
	switch {
	case c.json:
		return writeJSON(a.stdout, rows)
	case c.csv:
		return writeHistoryCSV(a.stdout, rows, nil)
	}
	if err := writeHistoryTable(a.stdout, rows, nil); err != nil {
		return err
	}
	printSeriesSplits(a.stdout, rows, c.basis.each)
	return nil
}

// runFirstPublished prints the history as first published: JSON rows gain
// "restated", CSV a restated column, the table a marker column. Without
// rows, the table is one sentence saying why; JSON and CSV stay parseable
// (an empty array, a header) and the sentence goes to stderr.
func (c *historyCmd) runFirstPublished(ctx context.Context, a *app, sym domain.Symbol, from, to time.Time, every projections.Every) error {
	h, err := publishedRows(ctx, a, &c.storeFlag, &c.pointFlags, sym, from, to, every)
	if err != nil {
		return err
	}
	if len(h.Rows) == 0 {
		note := a.stderr
		if !c.json && !c.csv {
			note = a.stdout
		}
		fmt.Fprintln(note, nothingPublished(sym, c.from, c.to, h))
	}
	if c.json {
		return writeJSON(a.stdout, h.Rows)
	}
	rows, restated := h.Split()
	switch {
	case c.csv:
		return writeHistoryCSV(a.stdout, rows, restated)
	case len(rows) == 0:
		return nil
	}
	return writeHistoryTable(a.stdout, rows, restated)
}

// historyColumns are the columns of history's CSV and table output.
var historyColumns = []string{"as_of", "analysts", "buy", "hold", "sell", "mean_rating", "label", "targets",
	"mean_target", "median_target", "high_target", "low_target", "stddev_target", "close", "close_at", "upside_pct"}

func historyRow(r projections.Consensus) []string {
	closeAt := ""
	if r.CloseAt != nil {
		closeAt = domain.FormatTime(*r.CloseAt)
	}
	blank := func(d *projections.Decimal) string {
		if d == nil {
			return ""
		}
		return d.String()
	}
	return []string{domain.FormatTime(r.AsOf), fmt.Sprint(r.Analysts), fmt.Sprint(r.Buy), fmt.Sprint(r.Hold),
		fmt.Sprint(r.Sell), blank(r.MeanRating), r.Label, fmt.Sprint(r.Targets), blank(r.MeanTarget),
		blank(r.MedianTarget), blank(r.HighTarget), blank(r.LowTarget), blank(r.StddevTarget), blank(r.Close),
		closeAt, blank(r.UpsidePct)}
}

// writeHistoryCSV writes the rows with a header; restated, when not nil
// (a first-published history), says which rows are restated, in a last
// column of true or false.
func writeHistoryCSV(w io.Writer, rows []projections.Consensus, restated []bool) error {
	cw := csv.NewWriter(w)
	header := append([]string{"instrument", "currency"}, historyColumns...)
	if restated != nil {
		header = append(header, "restated")
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for i, r := range rows {
		record := append([]string{r.Instrument, r.Currency}, historyRow(r)...)
		if restated != nil {
			record = append(record, strconv.FormatBool(restated[i]))
		}
		if err := cw.Write(record); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// restatedMark marks a restated row in history's table.
const restatedMark = "*"

// writeHistoryTable prints the history for people: dates, counts, target,
// close and upside; restated, when not nil (a first-published history),
// adds a column marking the restated rows, explained under the table.
func writeHistoryTable(w io.Writer, rows []projections.Consensus, restated []bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	header := "as of\tanalysts\tbuy\thold\tsell\tmean target\tclose\tupside %\tlabel\t"
	if restated != nil {
		header += "restated\t"
	}
	fmt.Fprintln(tw, header)
	marked := false
	for i, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t", r.AsOf.Format("2006-01-02"), r.Analysts, r.Buy,
			r.Hold, r.Sell, orDash(r.MeanTarget), orDash(r.Close), orDash(r.UpsidePct), r.Label)
		if restated != nil {
			mark := ""
			if restated[i] {
				mark, marked = restatedMark, true
			}
			fmt.Fprintf(tw, "%s\t", mark)
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if marked {
		_, err := fmt.Fprintf(w, "%s restated: the same row known at --known-at (default now) reads differently; history without --first-published shows it.\n", restatedMark)
		return err
	}
	return nil
}

// printSeriesSplits says under a history table which splits its figures
// were adjusted for, and on which basis, so that a reader comparing it with
// the prices as published knows why they differ.
func printSeriesSplits(w io.Writer, rows []projections.Consensus, each bool) {
	var splits []projections.AppliedSplit
	for _, r := range rows {
		for _, s := range r.Splits {
			if !slices.ContainsFunc(splits, func(x projections.AppliedSplit) bool { return x.EventID == s.EventID }) {
				splits = append(splits, s)
			}
		}
	}
	switch {
	case len(rows) == 0 || len(splits) == 0:
	case each:
		fmt.Fprintf(w, "adjusted for splits (each row on its own basis): %s\n", splitsText(splits))
	default:
		fmt.Fprintf(w, "adjusted for splits (every row on the basis of %s): %s\n",
			rows[len(rows)-1].AsOf.Format(time.DateOnly), splitsText(splits))
	}
}
