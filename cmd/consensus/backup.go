package main

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore/esdb"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
	"github.com/consensus-ledger/consensus/outfile"
)

type backupCmd struct{ storeFlag }

func (c *backupCmd) usage() (string, string) {
	return "backup FILE", "Writes a consistent copy of the embedded ledger to a new FILE while others write; " +
		"to restore, use FILE as --store, or stop every writer and put FILE in place of the ledger, moving its -wal and -shm away."
}

func (c *backupCmd) define(fs *pflag.FlagSet) { c.storeFlag.define(fs) }

func (c *backupCmd) run(ctx context.Context, a *app, args []string) error {
	switch len(args) {
	case 0:
		return usagef("missing FILE argument: the new file to write the backup to")
	case 1:
	default:
		return usagef("expected one FILE argument, got %d", len(args))
	}
	target, isFile := filePath(args[0])
	if !isFile || target == "" {
		return fmt.Errorf("backup FILE %q is not a file path: a backup is always a file; to put the ledger on a server, use 'consensus copy --from STORE --to SERVER'", esdb.Redact(args[0]))
	}
	spec := c.resolve(a)
	if esdb.IsConnectionString(spec) {
		// A server's consistent copy needs the server's own means (its
		// backup procedure, or a file-system snapshot of every node's
		// data), which this program cannot take from outside.
		return fmt.Errorf("store %s is an EventStoreDB/KurrentDB server, which is backed up with the server's own tools; "+
			"to copy its events into a ledger file instead, run 'consensus copy --from STORE --to FILE'", esdb.Redact(spec))
	}
	// The same rules as every output file (the store and the files beside
	// it, a database, a directory), without --force: a backup never
	// replaces a file, and sqlite's Backup refuses one that appears while
	// it runs.
	out := outputOptions(a, &c.storeFlag, "the backup file", false)
	out.NoForce = true
	if err := outfile.Check(target, out); err != nil {
		return err
	}
	store, err := openStore(spec, true, a.now, false)
	if err != nil {
		return err
	}
	defer store.Close()
	s, ok := store.(*sqlite.Store)
	if !ok {
		return fmt.Errorf("store %s cannot be backed up by this command", esdb.Redact(spec))
	}
	sum, err := s.Backup(ctx, target)
	if err != nil {
		return err
	}
	known := ""
	if !sum.LastRecordedAt.IsZero() {
		known = ", the ledger as known at " + domain.FormatTime(sum.LastRecordedAt)
	}
	_, err = fmt.Fprintf(a.stdout, "backed up %d events in %d streams (%d bytes) to %s%s\n", sum.Events, sum.Streams, sum.Bytes, target, known)
	return err
}
