package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/consensus-ledger/consensus/domain"
)

type instrumentsCmd struct{ listFlags }

func (c *instrumentsCmd) usage() (string, string) {
	return "instruments [--json]", "Lists the instruments with their currency, event count and last event."
}

func (c *instrumentsCmd) run(ctx context.Context, a *app, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected argument %s", domain.Quote(args[0]))
	}
	l, closeStore, err := c.open(a, true)
	if err != nil {
		return err
	}
	defer closeStore()
	list, err := l.Instruments(ctx)
	if err != nil {
		return err
	}
	if c.json {
		type item struct {
			Instrument     string `json:"instrument"`
			Currency       string `json:"currency"`
			Events         int64  `json:"events"`
			LastRecordedAt string `json:"last_recorded_at"`
		}
		items := make([]item, len(list))
		for i, in := range list {
			items[i] = item{string(in.Symbol), string(in.Currency), in.Events, domain.FormatTime(in.LastRecordedAt)}
		}
		return writeJSON(a.stdout, items)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "instrument\tcurrency\tevents\tlast recorded at")
	for _, in := range list {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", in.Symbol, in.Currency, in.Events, domain.FormatTime(in.LastRecordedAt))
	}
	return tw.Flush()
}
