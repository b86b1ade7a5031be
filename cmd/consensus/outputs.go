package main

import (
	"github.com/spf13/pflag"

	"github.com/consensus-ledger/consensus/outfile"
)

// forceFlag is the --force flag of every command that writes a file of its
// own: without it, an existing file is refused.
type forceFlag struct{ force bool }

func (f *forceFlag) define(fs *pflag.FlagSet, what string) {
	fs.BoolVar(&f.force, "force", false, "replace "+what+" if it already exists (never the ledger's store, a database or an input of the command)")
}

// outputOptions are the rules for a file a command writes, named on the
// command line by flag: never the store the command would use (its file
// and the files SQLite keeps beside it), whether or not --store was given,
// and never one of the command's inputs.
func outputOptions(a *app, store *storeFlag, flag string, force bool, inputs ...outfile.Protected) outfile.Options {
	opts := outfile.Options{Flag: flag, Force: force}
	if path, isFile := filePath(store.resolve(a)); isFile && path != "" {
		opts.Protected = append(opts.Protected,
			outfile.Protected{Path: path, What: "the ledger's store"},
			outfile.Protected{Path: path + "-wal", What: "the ledger's write-ahead log"},
			outfile.Protected{Path: path + "-shm", What: "the ledger's shared-memory index"},
			outfile.Protected{Path: path + "-journal", What: "the ledger's rollback journal"})
	}
	opts.Protected = append(opts.Protected, inputs...)
	return opts
}
