package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/ledger"
	"github.com/consensus-ledger/consensus/projections"
)

type analystCmd struct {
	storeFlag
	pointFlags
	json, csv bool
}

func (c *analystCmd) usage() (string, string) {
	return "analyst ID [--as-of D] [--known-at T] [--json|--csv]",
		"Shows one analyst's track record: every call with its scores, and the summary."
}

func (c *analystCmd) details() string {
	return "A call is a rating or a target revision; it runs 365 days and is scored once closed (CONTRACT section 10).\n" +
		"Prices and targets are adjusted for splits to the basis of --as-of; figures are exact, rounded to 2 dp."
}

func (c *analystCmd) define(fs *pflag.FlagSet) {
	c.storeFlag.define(fs)
	c.pointFlags.defineTimes(fs)
	fs.BoolVar(&c.json, "json", false, "print JSON: the summary and the calls")
	fs.BoolVar(&c.csv, "csv", false, "print the calls as CSV with a header row")
}

func (c *analystCmd) run(ctx context.Context, a *app, args []string) error {
	if c.json && c.csv {
		return usagef("--json and --csv cannot be combined")
	}
	if len(args) != 1 {
		return usagef("expected one analyst ID argument, got %d", len(args))
	}
	id, err := domain.ParseAnalyst(args[0])
	if err != nil {
		return err
	}
	q, err := c.query(a)
	if err != nil {
		return err
	}
	l, closeStore, err := c.open(a, true)
	if err != nil {
		return err
	}
	defer closeStore()
	report, err := l.Analyst(ctx, id, q.AsOf, q.KnownAt)
	if err != nil {
		return err
	}
	switch {
	case c.json:
		return writeJSON(a.stdout, report)
	case c.csv:
		return writeCallsCSV(a.stdout, report.Calls)
	}
	return printAnalyst(a.stdout, report)
}

// callColumns are the columns of analyst's CSV and table output.
var callColumns = []string{"instrument", "currency", "type", "event_id", "rating", "start", "end", "status", "p0", "p1",
	"target", "target_adjusted", "met_at_end", "met_within", "error_pct", "return_pct"}

func callRow(c projections.Call) []string {
	blank := func(d *projections.Decimal) string {
		if d == nil {
			return ""
		}
		return d.String()
	}
	flag := func(b *bool) string {
		if b == nil {
			return ""
		}
		return fmt.Sprint(*b)
	}
	rating, status := "", "open"
	if c.Rating != nil {
		rating = *c.Rating
	}
	if c.Closed {
		status = "closed"
	}
	return []string{c.Instrument, c.Currency, c.Type, c.EventID.String(), rating, domain.FormatTime(c.Start),
		domain.FormatTime(c.End), status, blank(c.P0), blank(c.P1), blank(c.Target), blank(c.TargetAdjusted),
		flag(c.MetAtEnd), flag(c.MetWithin), blank(c.ErrorPct), blank(c.ReturnPct)}
}

func writeCallsCSV(w io.Writer, calls []projections.Call) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(callColumns); err != nil {
		return err
	}
	for _, c := range calls {
		if err := cw.Write(callRow(c)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// printAnalyst writes the summary and a table of the calls for people.
func printAnalyst(w io.Writer, r ledger.AnalystReport) error {
	s := r.Summary
	firm := ""
	if s.Firm != "" {
		firm = " (" + forTerminal(s.Firm) + ")"
	}
	fmt.Fprintf(w, "%s%s\n", forTerminal(s.Analyst), firm)
	fmt.Fprintf(w, "  as of %s, known at %s\n", domain.FormatTime(r.AsOf), domain.FormatTime(r.KnownAt))
	fmt.Fprintf(w, "  calls     %d, %d closed\n", s.Calls, s.Closed)
	fmt.Fprintf(w, "  ratings   %d scored: success rate %s %%, average return %s %%\n", s.ScoredRatingCalls, orDash(s.SuccessRate), orDash(s.AvgReturnPct))
	fmt.Fprintf(w, "  targets   %d scored: accuracy %s %%, average error %s %%\n\n", s.ScoredTargetCalls, orDash(s.Accuracy), orDash(s.AvgErrorPct))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join([]string{"instrument", "type", "rating", "start", "end", "status", "p0", "p1", "target", "adjusted", "met at end", "met within", "error %", "return %"}, "\t"))
	for _, c := range r.Calls {
		row := callRow(c)
		dash := func(s string) string {
			if s == "" {
				return "-"
			}
			return s
		}
		fmt.Fprintln(tw, strings.Join([]string{row[0], row[2], dash(row[4]), row[5][:10], row[6][:10], row[7], orDash(c.P0), orDash(c.P1),
			orDash(c.Target), orDash(c.TargetAdjusted), dash(row[12]), dash(row[13]), orDash(c.ErrorPct), orDash(c.ReturnPct)}, "\t"))
	}
	return tw.Flush()
}
