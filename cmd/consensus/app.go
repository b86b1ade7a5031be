package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/errkind"
	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/eventstore/esdb"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
	"github.com/consensus-ledger/consensus/ledger"
)

// Exit statuses of CONTRACT section 4, from the one table in errkind.
const (
	exitOK    = errkind.ExitOK
	exitUsage = errkind.ExitUsage
)

// defaultStore is the embedded store used when neither --store nor
// CONSENSUS_STORE names one.
const defaultStore = "./consensus.db"

// app holds what every command needs from the outside world, injected so
// tests can run commands in-process with captured output and a pinned clock.
type app struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	now            func() time.Time
}

func newApp(stdout, stderr io.Writer, getenv func(string) string, now func() time.Time) *app {
	return &app{stdout: stdout, stderr: stderr, getenv: getenv, now: now}
}

// command is one subcommand: it declares its flags, then runs with the
// positional arguments left after flag parsing.
type command interface {
	// usage is the synopsis line and a sentence on what the command does.
	usage() (synopsis, summary string)
	// define registers the command's flags on fs.
	define(fs *pflag.FlagSet)
	// run executes the command.
	run(ctx context.Context, a *app, args []string) error
}

// commands lists every subcommand by name.
func commands() map[string]func() command {
	return map[string]func() command{
		"rate":        rateCmd,
		"revise":      reviseCmd,
		"withdraw":    withdrawCmd,
		"close":       closeCmd,
		"split":       splitCmd,
		"retract":     func() command { return &retractCmd{} },
		"show":        func() command { return &showCmd{} },
		"history":     func() command { return &historyCmd{} },
		"diff":        func() command { return &diffCmd{} },
		"log":         func() command { return &logCmd{} },
		"instruments": func() command { return &instrumentsCmd{} },
		"verify":      func() command { return &verifyCmd{} },
		"keygen":      func() command { return &keygenCmd{} },
		"checkpoint":  func() command { return &checkpointCmd{} },
		"demo":        func() command { return &demoCmd{} },
		"rebuild":     func() command { return &rebuildCmd{} },
		"gen":         func() command { return &genCmd{} },
		"import":      func() command { return &importCmd{} },
		"copy":        func() command { return &copyCmd{} },
		"backup":      func() command { return &backupCmd{} },
		"chart":       func() command { return &chartCmd{} },
		"disclosures": func() command { return &disclosuresCmd{} },
		"firms":       func() command { return &firmsCmd{} },
		"serve":       func() command { return &serveCmd{} },
		"analyst":     func() command { return &analystCmd{} },
		"analysts":    func() command { return &analystsCmd{} },
	}
}

// usageError is a command line that could not be understood: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// ErrorKind puts usage errors into errkind's table, which cannot name this
// package's types.
func (e *usageError) ErrorKind() errkind.Kind { return errkind.Usage }

func usagef(format string, args ...any) error { return &usageError{msg: fmt.Sprintf(format, args...)} }

// errSilent makes a command exit with status 1 after it has already said
// why on its own (as import does, row by row).
var errSilent error = reportedError{}

// reportedError is the type of errSilent: a refusal whose reasons were
// printed already, of kind Invalid (the input was understood and refused).
type reportedError struct{}

func (reportedError) Error() string           { return "refused; the reasons were printed" }
func (reportedError) ErrorKind() errkind.Kind { return errkind.Invalid }

// run executes one command line and returns the exit status.
func (a *app) run(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			if mk, ok := commands()[args[1]]; ok {
				a.printCommandHelp(args[1], mk())
				return exitOK
			}
		}
		a.printHelp(a.stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	name := args[0]
	mk, ok := commands()[name]
	if !ok {
		fmt.Fprintf(a.stderr, "consensus: unknown command %s; run 'consensus help' for the list.\n", domain.Quote(name))
		return exitUsage
	}
	cmd := mk()
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cmd.define(fs)
	help := fs.BoolP("help", "h", false, "show this help")
	if err := fs.Parse(args[1:]); err != nil {
		fmt.Fprintf(a.stderr, "consensus %s: %s; run 'consensus help %s' for usage.\n", name, flagError(err), name)
		return exitUsage
	}
	if *help {
		a.printCommandHelp(name, cmd)
		return exitOK
	}
	err := cmd.run(ctx, a, fs.Args())
	if err == nil {
		return exitOK
	}
	// The exit status is the error's kind's, from the table the API's
	// statuses come from too; only the wording is the command line's.
	kind, _ := errkind.Of(err)
	var ue *usageError
	switch {
	case errors.Is(err, errSilent):
	case errors.As(err, &ue):
		fmt.Fprintf(a.stderr, "consensus %s: %s; run 'consensus help %s' for usage.\n", name, ue.msg, name)
	default:
		fmt.Fprintf(a.stderr, "consensus %s: %s\n", name, errkind.Sentence(err.Error()))
	}
	return kind.Exit()
}

func (a *app) printHelp(w io.Writer) {
	fmt.Fprintln(w, "consensus: the event-sourced analyst consensus ledger.")
	fmt.Fprintln(w, "\nUsage: consensus COMMAND [ARGS] [FLAGS]\n\nCommands:")
	names := make([]string, 0, len(commands()))
	for name := range commands() {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		_, summary := commands()[name]().usage()
		fmt.Fprintf(w, "  %-12s %s\n", name, summary)
	}
	fmt.Fprintln(w, "\nThe store is --store PATH, sqlite:PATH, an esdb:// or kurrentdb:// connection string, or CONSENSUS_STORE (default ./consensus.db).")
	fmt.Fprintln(w, "Run 'consensus help COMMAND' for a command's flags.")
}

func (a *app) printCommandHelp(name string, cmd command) {
	synopsis, summary := cmd.usage()
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	cmd.define(fs)
	if d, ok := cmd.(detailer); ok {
		summary += "\n\n" + d.details()
	}
	fmt.Fprintf(a.stdout, "Usage: consensus %s\n\n%s\n\nFlags:\n%s", synopsis, summary, fs.FlagUsages())
}

// detailer is a command with more to say in its own help than the one
// sentence the list of commands shows.
type detailer interface{ details() string }

// storeFlag is the --store flag every command that touches the ledger takes.
type storeFlag struct {
	spec string
	// bulkWrites opens an embedded store tuned for one writer appending
	// large batches back to back (sqlite.Options.BulkWrites): the import.
	bulkWrites bool
}

func (s *storeFlag) define(fs *pflag.FlagSet) {
	fs.StringVar(&s.spec, "store", "", "the ledger: a file path, sqlite:PATH or an esdb:// or kurrentdb:// connection string (default $CONSENSUS_STORE, else ./consensus.db)")
}

// resolve returns the store named by --store, CONSENSUS_STORE or the default.
func (s *storeFlag) resolve(a *app) string {
	switch {
	case s.spec != "":
		return s.spec
	case a.getenv("CONSENSUS_STORE") != "":
		return a.getenv("CONSENSUS_STORE")
	}
	return defaultStore
}

// open opens the named store. Reading commands open it read-only, so asking a
// question never creates or changes a file.
func (s *storeFlag) open(a *app, readOnly bool) (*ledger.Ledger, func(), error) {
	l, _, closeFn, err := s.openLedger(a, readOnly)
	return l, closeFn, err
}

// openLedger is open for the commands that also need the store itself
// (serve follows it; demo counts its events): the ledger does not hand
// its store out.
func (s *storeFlag) openLedger(a *app, readOnly bool, opts ...ledger.Option) (*ledger.Ledger, eventstore.Store, func(), error) {
	spec := s.resolve(a)
	store, err := openStore(spec, readOnly, a.now, s.bulkWrites)
	if err != nil {
		return nil, nil, nil, err
	}
	closeFn := func() {
		if err := store.Close(); err != nil {
			fmt.Fprintf(a.stderr, "consensus: closing the store: %v\n", err)
		}
	}
	return ledger.New(store, append([]ledger.Option{ledger.WithClock(a.now)}, opts...)...), store, closeFn, nil
}

// exists reports whether the store names an embedded-store file that is
// already there (server stores always are).
func (s *storeFlag) exists(a *app) bool {
	path, isFile := filePath(s.resolve(a))
	if !isFile {
		return true
	}
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

// filePath returns the file of an embedded-store specification, and false
// for a server connection string.
func filePath(spec string) (string, bool) {
	if strings.Contains(spec, "://") {
		return "", false
	}
	return strings.TrimPrefix(spec, "sqlite:"), true
}

// openStore opens a store from its specification: a path, sqlite:PATH, or a
// server connection string.
func openStore(spec string, readOnly bool, now func() time.Time, bulkWrites bool) (eventstore.Store, error) {
	if esdb.IsConnectionString(spec) {
		// Open bounds its first contact with the server (esdb.DefaultConnectTimeout),
		// so an unreachable server is one error within seconds; its errors name
		// the server without the password.
		return esdb.Open(context.Background(), spec, esdb.Options{ReadOnly: readOnly, Now: now})
	}
	path, _ := filePath(spec)
	if path == "" {
		return nil, fmt.Errorf("store %s names no file", domain.Quote(spec))
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("store %s: directory %s does not exist", domain.Quote(path), domain.Quote(dir))
	}
	store, err := sqlite.Open(path, sqlite.Options{ReadOnly: readOnly, Now: now, BulkWrites: bulkWrites})
	switch {
	case errors.Is(err, fs.ErrNotExist) && readOnly:
		return nil, errNoLedger(path)
	case errors.Is(err, eventstore.ErrNotLedger):
		return nil, fmt.Errorf("%s is not a consensus ledger; it was left unchanged", path)
	case err != nil:
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return store, nil
}

// errNoLedger is the refusal of a command that needs an existing ledger.
func errNoLedger(path string) error {
	return fmt.Errorf("no ledger at %s: record an event first, or run 'consensus demo --store %s'", path, path)
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// required fails with a usage error when a required flag was not given.
func required(fs map[string]string) error {
	var missing []string
	for name, value := range fs {
		if value == "" {
			missing = append(missing, "--"+name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	if len(missing) == 1 {
		return usagef("missing required flag %s", missing[0])
	}
	return usagef("missing required flags %s", strings.Join(missing, ", "))
}

// oneSymbol takes the single SYMBOL argument of a command.
func oneSymbol(args []string) (domain.Symbol, error) {
	switch len(args) {
	case 0:
		return "", usagef("missing SYMBOL argument")
	case 1:
		return domain.ParseSymbol(args[0])
	}
	return "", usagef("expected one SYMBOL argument, got %d: %s", len(args), domain.Quote(strings.Join(args, " ")))
}
