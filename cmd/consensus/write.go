package main

import (
	"context"
	"fmt"
	"os/user"

	"github.com/google/uuid"
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

// write runs one write against the store and prints its receipt.
func (w *writeFlags) write(a *app, do func(*ledger.Ledger) (ledger.Receipt, error)) error {
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

// factFlags are the flags naming an analyst's fact about an instrument.
type factFlags struct {
	writeFlags
	analyst, currency, at string
}

func (f *factFlags) define(fs *pflag.FlagSet, withCurrency bool) {
	f.writeFlags.define(fs)
	fs.StringVar(&f.analyst, "analyst", "", "the analyst's identifier, e.g. j.smith@firm-a (required)")
	if withCurrency {
		fs.StringVar(&f.currency, "currency", "", "ISO 4217 currency of the instrument, e.g. USD (required)")
	}
	fs.StringVar(&f.at, "at", "", "effective time: YYYY-MM-DD (end of that day, UTC) or RFC 3339 (required)")
}

type rateCmd struct {
	factFlags
	firm, rating, target string
}

func (c *rateCmd) usage() (string, string) {
	return "rate SYMBOL --analyst ID [--firm F] --rating R [--target P] --currency CCY --at T",
		"Records an analyst's rating (RatingAdded), superseding the analyst's earlier one."
}

func (c *rateCmd) define(fs *pflag.FlagSet) {
	c.factFlags.define(fs, true)
	fs.StringVar(&c.firm, "firm", "", "the analyst's firm")
	fs.StringVar(&c.rating, "rating", "", "strong_buy, buy, hold, sell, strong_sell or a broker word such as outperform (required)")
	fs.StringVar(&c.target, "target", "", "12-month price target, an exact decimal")
}

func (c *rateCmd) run(ctx context.Context, a *app, args []string) error {
	if err := required(map[string]string{"analyst": c.analyst, "rating": c.rating, "currency": c.currency, "at": c.at}); err != nil {
		return err
	}
	sym, err := oneSymbol(args)
	if err != nil {
		return err
	}
	cmd := domain.Rate{Instrument: sym, BrokerRating: c.rating}
	if cmd.Analyst, err = domain.ParseAnalyst(c.analyst); err != nil {
		return err
	}
	if cmd.Firm, err = domain.ParseFirm(c.firm); err != nil {
		return err
	}
	if cmd.Rating, err = domain.ParseRating(c.rating); err != nil {
		return err
	}
	if c.target != "" {
		t, err := domain.ParseMoney("target", c.target)
		if err != nil {
			return err
		}
		cmd.Target = &t
	}
	if cmd.Currency, err = domain.ParseCurrency(c.currency); err != nil {
		return err
	}
	if cmd.EffectiveAt, err = domain.ParseEffective("at", c.at, a.now()); err != nil {
		return err
	}
	return c.record(ctx, a, cmd)
}

type reviseCmd struct {
	factFlags
	target string
}

func (c *reviseCmd) usage() (string, string) {
	return "revise SYMBOL --analyst ID --target P --currency CCY --at T",
		"Replaces the price target of the analyst's current rating (TargetRevised)."
}

func (c *reviseCmd) define(fs *pflag.FlagSet) {
	c.factFlags.define(fs, true)
	fs.StringVar(&c.target, "target", "", "the new 12-month price target, an exact decimal (required)")
}

func (c *reviseCmd) run(ctx context.Context, a *app, args []string) error {
	if err := required(map[string]string{"analyst": c.analyst, "target": c.target, "currency": c.currency, "at": c.at}); err != nil {
		return err
	}
	sym, err := oneSymbol(args)
	if err != nil {
		return err
	}
	cmd := domain.Revise{Instrument: sym}
	if cmd.Analyst, err = domain.ParseAnalyst(c.analyst); err != nil {
		return err
	}
	if cmd.Target, err = domain.ParseMoney("target", c.target); err != nil {
		return err
	}
	if cmd.Currency, err = domain.ParseCurrency(c.currency); err != nil {
		return err
	}
	if cmd.EffectiveAt, err = domain.ParseEffective("at", c.at, a.now()); err != nil {
		return err
	}
	return c.record(ctx, a, cmd)
}

type withdrawCmd struct{ factFlags }

func (c *withdrawCmd) usage() (string, string) {
	return "withdraw SYMBOL --analyst ID --at T", "Records that the analyst dropped coverage (RatingWithdrawn)."
}

func (c *withdrawCmd) define(fs *pflag.FlagSet) { c.factFlags.define(fs, false) }

func (c *withdrawCmd) run(ctx context.Context, a *app, args []string) error {
	if err := required(map[string]string{"analyst": c.analyst, "at": c.at}); err != nil {
		return err
	}
	sym, err := oneSymbol(args)
	if err != nil {
		return err
	}
	cmd := domain.Withdraw{Instrument: sym}
	if cmd.Analyst, err = domain.ParseAnalyst(c.analyst); err != nil {
		return err
	}
	if cmd.EffectiveAt, err = domain.ParseEffective("at", c.at, a.now()); err != nil {
		return err
	}
	return c.record(ctx, a, cmd)
}

type closeCmd struct {
	writeFlags
	price, currency, at string
}

func (c *closeCmd) usage() (string, string) {
	return "close SYMBOL --price P --currency CCY --at T", "Records a trading day's closing price (CloseRecorded)."
}

func (c *closeCmd) define(fs *pflag.FlagSet) {
	c.writeFlags.define(fs)
	fs.StringVar(&c.price, "price", "", "the closing price, an exact decimal (required)")
	fs.StringVar(&c.currency, "currency", "", "ISO 4217 currency of the instrument (required)")
	fs.StringVar(&c.at, "at", "", "the trading day (YYYY-MM-DD means its end, UTC) or an RFC 3339 time (required)")
}

func (c *closeCmd) run(ctx context.Context, a *app, args []string) error {
	if err := required(map[string]string{"price": c.price, "currency": c.currency, "at": c.at}); err != nil {
		return err
	}
	sym, err := oneSymbol(args)
	if err != nil {
		return err
	}
	cmd := domain.RecordClose{Instrument: sym}
	if cmd.Price, err = domain.ParseMoney("price", c.price); err != nil {
		return err
	}
	if cmd.Currency, err = domain.ParseCurrency(c.currency); err != nil {
		return err
	}
	if cmd.EffectiveAt, err = domain.ParseEffective("at", c.at, a.now()); err != nil {
		return err
	}
	return c.record(ctx, a, cmd)
}

type retractCmd struct {
	writeFlags
	reason string
}

func (c *retractCmd) usage() (string, string) {
	return "retract EVENT_ID --reason TEXT",
		"Withdraws a wrong event from every answer known from now on (EventRetracted); nothing is deleted."
}

func (c *retractCmd) define(fs *pflag.FlagSet) {
	c.writeFlags.define(fs)
	fs.StringVar(&c.reason, "reason", "", "why the event is retracted (required)")
}

func (c *retractCmd) run(ctx context.Context, a *app, args []string) error {
	if err := required(map[string]string{"reason": c.reason}); err != nil {
		return err
	}
	if len(args) != 1 {
		return usagef("expected one EVENT_ID argument")
	}
	id, err := uuid.Parse(args[0])
	if err != nil {
		return &domain.ValidationError{Field: "event_id", Value: args[0], Reason: "is not a UUID"}
	}
	if !c.exists(a) {
		return ledger.UnknownEvent(id)
	}
	return c.write(a, func(l *ledger.Ledger) (ledger.Receipt, error) {
		return l.Retract(ctx, id, c.reason, c.options(a))
	})
}
