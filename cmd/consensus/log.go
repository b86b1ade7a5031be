package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/spf13/pflag"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/ledger"
)

type logCmd struct {
	listFlags
	chain   bool
	knownAt string
}

func (c *logCmd) usage() (string, string) {
	return "log SYMBOL [--known-at T] [--json | --chain]", "Lists the instrument's events in stream order, with ids, both times, retractions marked and each rating event's actions."
}

func (c *logCmd) define(fs *pflag.FlagSet) {
	c.listFlags.define(fs)
	fs.BoolVar(&c.chain, "chain", false, "print every event's hash-chain fields as stored, one tab-separated line each, to recompute the hashes independently (docs/events.md)")
	fs.StringVar(&c.knownAt, "known-at", "", "the log as it stood at this date or time: the events recorded by then, and the actions derived then (default: everything stored)")
}

func (c *logCmd) run(ctx context.Context, a *app, args []string) error {
	sym, err := oneSymbol(args)
	if err != nil {
		return err
	}
	if c.chain && c.json {
		return usagef("--chain and --json are two different outputs; give one")
	}
	if c.chain && c.knownAt != "" {
		return usagef("--chain prints the stored chain, which has no knowledge time; leave out --known-at")
	}
	var knownAt time.Time
	if c.knownAt != "" {
		if knownAt, err = domain.ParseTime("known-at", c.knownAt); err != nil {
			return err
		}
	}
	l, closeStore, err := c.open(a, true)
	if err != nil {
		return err
	}
	defer closeStore()
	if c.chain {
		return printChain(ctx, a.stdout, l, sym)
	}
	var entries []ledger.LogEntry
	if c.knownAt != "" {
		entries, err = l.LogAt(ctx, sym, knownAt)
	} else {
		entries, err = l.Log(ctx, sym)
	}
	if err != nil {
		return err
	}
	if c.json {
		lines := make([]ledger.LogLine, len(entries))
		for i, e := range entries {
			if lines[i], err = e.Line(); err != nil {
				return err
			}
		}
		return writeJSON(a.stdout, lines)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tevent id\ttype\teffective at\trecorded at\taction\tdetails")
	for _, e := range entries {
		details := describe(e.Event.Event)
		if e.RetractedBy != nil {
			details += fmt.Sprintf("  [RETRACTED by %s]", e.RetractedBy.ID)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Event.Version, e.Event.ID, e.Type,
			domain.FormatTime(e.Event.Event.Effective()), domain.FormatTime(e.Event.RecordedAt), actionText(e.Actions), details)
	}
	return tw.Flush()
}

// actionText is the log's action column: the rating action and the target
// action joined by a slash, "-" for an absent one, a lone "-" for events
// with neither.
func actionText(a domain.Actions) string {
	if a == (domain.Actions{}) {
		return "-"
	}
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	return dash(string(a.Rating)) + "/" + dash(string(a.Target))
}

// describe summarises an event's data in a few words.
func describe(e domain.Event) string {
	switch e := e.(type) {
	case domain.RatingAdded:
		s := fmt.Sprintf("%s %s", e.Analyst, e.Rating)
		if e.BrokerRating != e.Rating.String() {
			s += fmt.Sprintf(" (%s)", e.BrokerRating)
		}
		if e.Target != nil {
			s += fmt.Sprintf(" target %s %s", e.Target, e.Currency)
		}
		return s
	case domain.TargetRevised:
		return fmt.Sprintf("%s target %s %s", e.Analyst, e.Target, e.Currency)
	case domain.RatingWithdrawn:
		return fmt.Sprintf("%s withdrew coverage", e.Analyst)
	case domain.CloseRecorded:
		return fmt.Sprintf("close %s %s", e.Price, e.Currency)
	case domain.EventRetracted:
		return fmt.Sprintf("retracts %s: %s", e.Retracted, forTerminal(e.Reason))
	case domain.SplitRecorded:
		return fmt.Sprintf("split %s", e.Ratio)
	}
	return ""
}

// forTerminal escapes, Go-style (\x1b, \u202e), every character of free
// text that a terminal would act on or not show: new writes refuse them
// (domain.CheckFreeText), but a ledger written before that, or by another
// tool, may hold them, and an escape sequence in a reason must not clear
// or rewrite an auditor's screen.
func forTerminal(s string) string {
	hidden := func(r rune) bool { return !unicode.IsGraphic(r) }
	if !strings.ContainsFunc(s, hidden) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if hidden(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}
