package main

import (
	"context"
	"fmt"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/pflag"

	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/eventstore/esdb"
)

type copyCmd struct {
	from, to string
}

func (c *copyCmd) usage() (string, string) {
	return "copy --from STORE --to STORE",
		"Copies every event to another store with its id, both times and hash chain; re-running it resumes and writes nothing twice."
}

func (c *copyCmd) define(fs *pflag.FlagSet) {
	fs.StringVar(&c.from, "from", "", "the store to copy from: a file path, sqlite:PATH or a server connection string")
	fs.StringVar(&c.to, "to", "", "the store to copy to: a file path (created if missing), sqlite:PATH or a server connection string")
}

func (c *copyCmd) run(ctx context.Context, a *app, args []string) error {
	if len(args) != 0 {
		return usagef("copy takes no arguments, only --from and --to")
	}
	if err := required(map[string]string{"from": c.from, "to": c.to}); err != nil {
		return err
	}
	if c.from == c.to {
		return usagef("--from and --to name the same store")
	}
	from, err := openStore(c.from, true, a.now, false)
	if err != nil {
		return err
	}
	defer from.Close()
	to, err := openStore(c.to, false, a.now, false)
	if err != nil {
		return err
	}
	defer func() {
		if err := to.Close(); err != nil {
			fmt.Fprintf(a.stderr, "consensus: closing %s: %v\n", esdb.Redact(c.to), err)
		}
	}()
	bar := newCopyBar(a)
	summary, err := eventstore.Copy(ctx, from, to, bar.update)
	bar.done()
	if err != nil {
		return fmt.Errorf("copy stopped after whole pages only (%d events copied so far); run it again to finish: %w", summary.Copied, err)
	}
	fmt.Fprintf(a.stdout, "copied %d events, %d already there, %d streams\n", summary.Copied, summary.Present, summary.Streams)
	return nil
}

// copyBar draws the copy's progress on a terminal, and nothing otherwise.
type copyBar struct {
	a   *app
	on  bool
	bar *progressbar.ProgressBar
}

func newCopyBar(a *app) *copyBar { return &copyBar{a: a, on: isTerminal(a.stderr)} }

func (b *copyBar) update(p eventstore.CopyProgress) {
	if !b.on {
		return
	}
	if b.bar == nil {
		opts := append(barOptions(b.a, "copying"), progressbar.OptionShowCount(), progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("events"))
		b.bar = progressbar.NewOptions64(p.Events, opts...)
	}
	b.bar.Set64(p.Copied + p.Present)
}

func (b *copyBar) done() {
	if b.bar != nil {
		b.bar.Finish()
	}
}
