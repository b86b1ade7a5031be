package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/consensus-ledger/consensus/demo"
	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore/esdb"
	"github.com/consensus-ledger/consensus/projections"
)

type demoCmd struct{ storeFlag }

func (c *demoCmd) usage() (string, string) {
	return "demo [--store PATH]",
		"Loads the Alibaba scenario of 11-12 September 2025 into a new store, a store holding only the demo, or a temporary one, and shows its consensus."
}

func (c *demoCmd) define(fs *pflag.FlagSet) { c.storeFlag.define(fs) }

func (c *demoCmd) run(ctx context.Context, a *app, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected argument %s", domain.Quote(args[0]))
	}
	temporary := c.spec == "" && a.getenv("CONSENSUS_STORE") == ""
	if temporary {
		dir, err := os.MkdirTemp("", "consensus-demo-")
		if err != nil {
			return fmt.Errorf("create a temporary store: %w", err)
		}
		defer os.RemoveAll(dir)
		c.spec = filepath.Join(dir, "demo.db")
	}
	if !temporary {
		if err := c.checkOwnStore(ctx, a); err != nil {
			return err
		}
	}
	l, closeStore, err := c.open(a, false)
	if err != nil {
		return err
	}
	defer closeStore()
	loaded, err := demo.Load(ctx, l)
	if err != nil {
		return err
	}
	w := a.stdout
	where := c.resolve(a)
	if temporary {
		where = "a temporary store (removed on exit; use --store FILE to keep it)"
	}
	fmt.Fprintf(w, "Alibaba scenario: %d events written, %d already present, in %s.\n", loaded.Written, loaded.AlreadyPresent, where)

	now := a.now().UTC()
	show := func(title, symbol, asOf string) error {
		at, err := domain.ParseTime("as-of", asOf)
		if err != nil {
			return err
		}
		r, err := l.Show(ctx, domain.Symbol(symbol), projections.Query{AsOf: at, KnownAt: now, Window: projections.DefaultWindow})
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "\n%s\n", title)
		printCard(w, r)
		return nil
	}
	if err := show("BABA at the close on Thursday 11 September 2025:", "BABA", demo.Thursday); err != nil {
		return err
	}
	if err := show("BABA on Friday 12 September 2025 at 15:00 UTC, before the US close (Thursday's close still the latest):", "BABA", "2025-09-12T15:00:00Z"); err != nil {
		return err
	}
	if err := show("BABA at the close on Friday 12 September 2025:", "BABA", demo.Friday); err != nil {
		return err
	}
	if err := show("9988.HK, the Hong Kong listing, at the close on Friday 12 September 2025 (HKD):", "9988.HK", demo.Friday); err != nil {
		return err
	}
	from, _ := domain.ParseTime("from", "2025-06-01")
	to, _ := domain.ParseTime("to", demo.Friday)
	rows, err := l.History(ctx, "BABA", from, to, projections.Week, projections.Query{KnownAt: now, Window: projections.DefaultWindow})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nHow the BABA consensus moved, week by week (weeks end on Sunday):\n")
	if err := writeHistoryTable(w, rows, nil); err != nil {
		return err
	}
	if !temporary {
		fmt.Fprintf(w, "\nTry: consensus show BABA --as-of %s --explain --store %s\n", demo.Thursday, where)
	}
	return nil
}

// checkOwnStore refuses a store that holds events other than the demo's:
// fictitious events must never mix with a real ledger's. It reads the store
// read-only, so a refused demo writes nothing, not even a schema upgrade. A
// store that does not exist yet is new, and the demo's own.
func (c *demoCmd) checkOwnStore(ctx context.Context, a *app) error {
	if !c.exists(a) {
		return nil
	}
	_, store, closeStore, err := c.openLedger(a, true)
	if err != nil {
		return err
	}
	defer closeStore()
	n, err := demo.Foreign(ctx, store)
	if err != nil {
		return fmt.Errorf("demo cannot tell whether %s holds anything but the demo: %w", esdb.Redact(c.resolve(a)), err)
	}
	if n == 0 {
		return nil
	}
	events := fmt.Sprintf("%d events that are not the demo's", n)
	if n == 1 {
		events = "1 event that is not the demo's"
	}
	return fmt.Errorf("%s holds %s, and demo data goes only into a store of its own; give a new store path, or neither --store nor CONSENSUS_STORE for a temporary store",
		esdb.Redact(c.resolve(a)), events)
}
