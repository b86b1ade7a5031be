package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/consensus-ledger/consensus/domain"
)

type firmsCmd struct {
	listFlags
	knownAt string
}

func (c *firmsCmd) usage() (string, string) {
	return "firms [--known-at T] [--json]", "Lists the firms named by the ledger's ratings, with how many instruments each rates."
}

func (c *firmsCmd) define(fs *pflag.FlagSet) {
	c.listFlags.define(fs)
	fs.StringVar(&c.knownAt, "known-at", "", "transaction time: only what the ledger knew at this date or time (default now)")
}

func (c *firmsCmd) run(ctx context.Context, a *app, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected argument %s", domain.Quote(args[0]))
	}
	knownAt := a.now().UTC()
	if c.knownAt != "" {
		var err error
		if knownAt, err = domain.ParseTime("known-at", c.knownAt); err != nil {
			return err
		}
	}
	l, closeStore, err := c.open(a, true)
	if err != nil {
		return err
	}
	defer closeStore()
	firms, err := l.Firms(ctx, knownAt)
	if err != nil {
		return err
	}
	if c.json {
		type item struct {
			Firm        string `json:"firm"`
			Instruments int    `json:"instruments"`
		}
		items := make([]item, len(firms))
		for i, f := range firms {
			items[i] = item{f.Name, f.Instruments}
		}
		return writeJSON(a.stdout, items)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "firm\tinstruments")
	for _, f := range firms {
		fmt.Fprintf(tw, "%s\t%d\n", f.Name, f.Instruments)
	}
	return tw.Flush()
}
