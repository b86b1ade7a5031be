package main

import (
	"context"
	"fmt"
	"os/user"

	"github.com/spf13/pflag"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/ledger"
)

// writeFlags are the flags every writing command shares.
type writeFlags struct {
	storeFlag
	json   bool
	source string
}

func (w *writeFlags) define(fs *pflag.FlagSet) {
	w.storeFlag.define(fs)
	fs.BoolVar(&w.json, "json", false, "print the new event as JSON")
	fs.StringVar(&w.source, "source", "manual", "where the fact comes from, kept in the event's metadata")
}

// record decides and appends cmd, then prints the new event's id.
func (w *writeFlags) record(ctx context.Context, a *app, cmd domain.Command) error {
	if !w.exists(a) {
		// A store that does not exist yet has no history: judge the command
		// against none before creating the file, so a refused command
		// leaves no file behind.
		if _, err := domain.Decide(nil, cmd, a.now()); err != nil {
			return err
		}
	}
	return w.write(a, func(l *ledger.Ledger) (ledger.Receipt, error) {
		return l.Record(ctx, cmd, w.options(a))
	})
}

// write runs one write against the store and prints its receipt. The
// --source text is checked first, so a refused one creates no store.
func (w *writeFlags) write(a *app, do func(*ledger.Ledger) (ledger.Receipt, error)) error {
	if err := domain.CheckFreeText("source", w.source); err != nil {
		return err
	}
	l, closeStore, err := w.open(a, false)
	if err != nil {
		return err
	}
	defer closeStore()
	receipt, err := do(l)
	if err != nil {
		return err
	}
	return w.print(a, receipt)
}

func (w *writeFlags) options(a *app) ledger.WriteOptions {
	return ledger.WriteOptions{RecordedBy: writer(a), Source: w.source}
}

func (w *writeFlags) print(a *app, r ledger.Receipt) error {
	if w.json {
		return writeJSON(a.stdout, map[string]string{"event_id": r.EventID.String(), "recorded_at": domain.FormatTime(r.RecordedAt)})
	}
	_, err := fmt.Fprintln(a.stdout, r.EventID)
	return err
}

// writer is the identity recorded as recorded_by: CONSENSUS_USER, or the
// operating-system user.
func writer(a *app) string {
	if name := a.getenv("CONSENSUS_USER"); name != "" {
		return name
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	return "cli"
}

// rowFlag is a flag that fills one field of the row a writing command
// records.
type rowFlag struct {
	help  string
	field func(*domain.Row) *string
}

var rowFlags = map[string]rowFlag{
	"analyst":  {"the analyst's identifier, e.g. j.smith@firm-a", func(r *domain.Row) *string { return &r.Analyst }},
	"firm":     {"the analyst's firm", func(r *domain.Row) *string { return &r.Firm }},
	"rating":   {"strong_buy, buy, hold, sell, strong_sell or a broker word such as outperform", func(r *domain.Row) *string { return &r.Rating }},
	"target":   {"12-month price target, an exact decimal such as 165.69", func(r *domain.Row) *string { return &r.Target }},
	"price":    {"the closing price, an exact decimal", func(r *domain.Row) *string { return &r.Price }},
	"currency": {"ISO 4217 currency of the instrument, e.g. USD", func(r *domain.Row) *string { return &r.Currency }},
	"at":       {"effective time: YYYY-MM-DD (the end of that day, UTC) or RFC 3339", func(r *domain.Row) *string { return &r.At }},
	"ratio":    {"the split ratio N:M, N new shares for every M old: 4:1 for a 4-for-1 split, 1:10 for a 1-for-10 reverse split", func(r *domain.Row) *string { return &r.Ratio }},
}

// splitAtHelp is --at for split: a split's bare date is the START of the
// ex-date (CONTRACT section 7), unlike every other fact's, so its help must
// not repeat rowFlags' "end of that day".
const splitAtHelp = "the ex-date: YYYY-MM-DD (the START of that day, 00:00:00 UTC: the ex-date's own closes and targets are on the new basis) or RFC 3339"

// factCmd is a writing command that records one fact about an instrument:
// rate, revise, withdraw, close and split differ only in their row type and
// flags.
type factCmd struct {
	writeFlags
	rowType           string
	synopsis, summary string
	required          []string // flags that must be given
	optional          []string
	help              map[string]string // a flag's help where it differs from rowFlags'
	hidden            []string          // flags read but not shown: the row's fields the type refuses
	row               domain.Row
}

func newFactCmd(rowType, synopsis, summary string, required, optional []string) *factCmd {
	return &factCmd{rowType: rowType, synopsis: synopsis, summary: summary, required: required, optional: optional}
}

func rateCmd() command {
	return newFactCmd(domain.RowRating, "rate SYMBOL --analyst ID [--firm F] --rating R [--target P] --currency CCY --at T",
		"Records an analyst's rating (RatingAdded), superseding the analyst's earlier one.",
		[]string{"analyst", "rating", "currency", "at"}, []string{"firm", "target"})
}

func reviseCmd() command {
	return newFactCmd(domain.RowTarget, "revise SYMBOL --analyst ID --target P --currency CCY --at T",
		"Replaces the price target of the analyst's current rating (TargetRevised).",
		[]string{"analyst", "target", "currency", "at"}, nil)
}

func withdrawCmd() command {
	return newFactCmd(domain.RowWithdraw, "withdraw SYMBOL --analyst ID --at T",
		"Records that the analyst dropped coverage (RatingWithdrawn).", []string{"analyst", "at"}, nil)
}

func closeCmd() command {
	return newFactCmd(domain.RowClose, "close SYMBOL --price P --currency CCY --at T",
		"Records a trading day's closing price (CloseRecorded).", []string{"price", "currency", "at"}, nil)
}

func splitCmd() command {
	c := newFactCmd(domain.RowSplit, "split SYMBOL --ratio N:M --at D",
		"Records a stock split or reverse split effective at the start of its ex-date (SplitRecorded).",
		[]string{"ratio", "at"}, nil)
	c.help = map[string]string{"at": splitAtHelp}
	// A split has no analyst, price or currency; these flags are read but
	// not shown, so that "split --currency USD" is refused in the domain's
	// one sentence ("currency "USD" is not a field of a split ...") rather
	// than as an unknown flag, as an import row with that field is.
	c.hidden = []string{"analyst", "firm", "rating", "target", "price", "currency"}
	return c
}

func (c *factCmd) usage() (string, string) { return c.synopsis, c.summary }

func (c *factCmd) define(fs *pflag.FlagSet) {
	c.writeFlags.define(fs)
	help := func(name string) string {
		if h, ok := c.help[name]; ok {
			return h
		}
		return rowFlags[name].help
	}
	for _, name := range c.required {
		fs.StringVar(rowFlags[name].field(&c.row), name, "", help(name)+" (required)")
	}
	for _, name := range c.optional {
		fs.StringVar(rowFlags[name].field(&c.row), name, "", help(name))
	}
	for _, name := range c.hidden {
		fs.StringVar(rowFlags[name].field(&c.row), name, "", help(name))
		_ = fs.MarkHidden(name) // cannot fail: the flag was just defined
	}
}

func (c *factCmd) run(ctx context.Context, a *app, args []string) error {
	given := map[string]string{}
	for _, name := range c.required {
		given[name] = *rowFlags[name].field(&c.row)
	}
	if err := required(given); err != nil {
		return err
	}
	sym, err := oneSymbol(args)
	if err != nil {
		return err
	}
	c.row.Type, c.row.Instrument = c.rowType, string(sym)
	cmd, err := c.row.Command(a.now())
	if err != nil {
		return err
	}
	return c.record(ctx, a, cmd)
}
