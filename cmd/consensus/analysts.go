package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/projections"
)

type analystsCmd struct {
	storeFlag
	pointFlags
	rank, minClosed, firm string
	json, csv             bool
}

func (c *analystsCmd) usage() (string, string) {
	return "analysts [--rank success|return|accuracy] [--min-closed N] [--firm F] [--as-of D] [--known-at T] [--json|--csv]",
		"Ranks analysts by their track records as of a date (ties by id)."
}

func (c *analystsCmd) details() string {
	return "An analyst without the figure ranked by (no scored call of that kind) is left out."
}

func (c *analystsCmd) define(fs *pflag.FlagSet) {
	c.storeFlag.define(fs)
	c.pointFlags.defineTimes(fs)
	fs.StringVar(&c.rank, "rank", "success", "order by success (rate), return (average) or accuracy, highest first")
	fs.StringVar(&c.minClosed, "min-closed", "0", "leave out analysts with fewer closed calls")
	fs.StringVar(&c.firm, "firm", "", "only analysts of this firm, exactly as recorded")
	fs.BoolVar(&c.json, "json", false, "print a JSON array, best first")
	fs.BoolVar(&c.csv, "csv", false, "print CSV with a header row")
}

func (c *analystsCmd) run(ctx context.Context, a *app, args []string) error {
	switch {
	case len(args) > 0:
		return usagef("analysts takes no arguments, got %s", domain.Quote(args[0]))
	case c.json && c.csv:
		return usagef("--json and --csv cannot be combined")
	}
	rank, err := projections.ParseRank(c.rank)
	if err != nil {
		return err
	}
	minClosed, err := wholeNumber("min-closed", c.minClosed)
	if err != nil {
		return err
	}
	if err := projections.CheckMinClosed(minClosed); err != nil {
		return err
	}
	q, err := c.query(a)
	if err != nil {
		return err
	}
	collectLessOften(a, 400) // every stream is folded once and dropped
	l, closeStore, err := c.open(a, true)
	if err != nil {
		return err
	}
	defer closeStore()
	rec, err := l.TrackRecords(ctx, q.AsOf, q.KnownAt)
	if err != nil {
		return err
	}
	rows := rec.Rank(rank, projections.RankFilter{MinClosed: minClosed, Firm: c.firm})
	switch {
	case c.json:
		if rows == nil {
			rows = []projections.TrackRecord{}
		}
		return writeJSON(a.stdout, rows)
	case c.csv:
		cw := csv.NewWriter(a.stdout)
		_ = cw.Write([]string{"rank", "analyst", "firm", "calls", "closed", "scored_rating_calls", "success_rate",
			"avg_return_pct", "scored_target_calls", "accuracy", "avg_error_pct"})
		for i, r := range rows {
			_ = cw.Write(append([]string{strconv.Itoa(i + 1)}, recordRow(r)...))
		}
		cw.Flush()
		return cw.Error()
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "rank\tanalyst\tfirm\tcalls\tclosed\trated\tsuccess %\treturn %\ttargets\taccuracy %\terror %")
	for i, r := range rows {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%d\t%s\t%s\t%d\t%s\t%s\n", i+1, forTerminal(r.Analyst), forTerminal(r.Firm), r.Calls, r.Closed,
			r.ScoredRatingCalls, orDash(r.SuccessRate), orDash(r.AvgReturnPct), r.ScoredTargetCalls, orDash(r.Accuracy), orDash(r.AvgErrorPct))
	}
	return tw.Flush()
}

func recordRow(r projections.TrackRecord) []string {
	blank := func(d *projections.Decimal) string {
		if d == nil {
			return ""
		}
		return d.String()
	}
	return []string{r.Analyst, r.Firm, strconv.Itoa(r.Calls), strconv.Itoa(r.Closed), strconv.Itoa(r.ScoredRatingCalls),
		blank(r.SuccessRate), blank(r.AvgReturnPct), strconv.Itoa(r.ScoredTargetCalls), blank(r.Accuracy), blank(r.AvgErrorPct)}
}

// wholeNumber reads a flag's whole number (it may be negative, for the
// caller to refuse with its own reason).
func wholeNumber(field, text string) (int, error) {
	n, err := strconv.Atoi(text)
	if err != nil {
		return 0, &domain.ValidationError{Field: field, Value: text, Reason: "must be a whole number"}
	}
	return n, nil
}
