package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
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
}

func (c *historyCmd) usage() (string, string) {
	return "history SYMBOL --from D --to D [--every day|week|month] [--known-at T] [--json|--csv]",
		"Shows one consensus row per period end between two dates."
}

func (c *historyCmd) define(fs *pflag.FlagSet) {
	c.storeFlag.define(fs)
	c.pointFlags.define(fs, false)
	fs.StringVar(&c.from, "from", "", "first date (required)")
	fs.StringVar(&c.to, "to", "", "last date (required)")
	fs.StringVar(&c.every, "every", "day", "period: day, week (ending Sunday) or month")
	fs.BoolVar(&c.json, "json", false, "print a JSON array")
	fs.BoolVar(&c.csv, "csv", false, "print CSV with a header row")
}

// historyRows answers a history question from the read-only store the
// flags name, at the point in time they give: what history and chart share.
func historyRows(ctx context.Context, a *app, store *storeFlag, point *pointFlags, sym domain.Symbol,
	from, to time.Time, every projections.Every) ([]projections.Consensus, error) {
	q, err := point.query(a)
	if err != nil {
		return nil, err
	}
	l, closeStore, err := store.open(a, true)
	if err != nil {
		return nil, err
	}
	defer closeStore()
	return l.History(ctx, sym, from, to, every, q)
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
	rows, err := historyRows(ctx, a, &c.storeFlag, &c.pointFlags, sym, from, to, every)
	if err != nil {
		return err
	}
	switch {
	case c.json:
		return writeJSON(a.stdout, rows)
	case c.csv:
		return writeHistoryCSV(a.stdout, rows)
	}
	return writeHistoryTable(a.stdout, rows)
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

func writeHistoryCSV(w io.Writer, rows []projections.Consensus) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(append([]string{"instrument", "currency"}, historyColumns...)); err != nil {
		return err
	}
	for _, r := range rows {
		if err := cw.Write(append([]string{r.Instrument, r.Currency}, historyRow(r)...)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeHistoryTable prints the history for people: dates, counts, target,
// close and upside.
func writeHistoryTable(w io.Writer, rows []projections.Consensus) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "as of\tanalysts\tbuy\thold\tsell\tmean target\tclose\tupside %\tlabel\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t\n", r.AsOf.Format("2006-01-02"), r.Analysts, r.Buy,
			r.Hold, r.Sell, orDash(r.MeanTarget), orDash(r.Close), orDash(r.UpsidePct), r.Label)
	}
	return tw.Flush()
}
