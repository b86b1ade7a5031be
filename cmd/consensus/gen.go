package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/gen"
	"github.com/consensus-ledger/consensus/outfile"
)

// genCmd writes a deterministic synthetic history in the import format
// (CONTRACT sections 4 and 5). It touches no store.
type genCmd struct {
	forceFlag
	instruments, analysts, years, seed string
	end, out, format                   string
	splits                             bool
}

func (c *genCmd) usage() (string, string) {
	return "gen --instruments N --analysts N --years N --seed S [--end DATE] [--splits] [--out FILE [--force]] [--format jsonl|csv]",
		"Writes a deterministic synthetic history in the import format: the same flags give the same bytes."
}

func (c *genCmd) define(fs *pflag.FlagSet) {
	fs.StringVar(&c.instruments, "instruments", "", fmt.Sprintf("number of instruments, `N` from 1 to %d (required)", gen.MaxInstruments))
	fs.StringVar(&c.analysts, "analysts", "", fmt.Sprintf("size of the analyst pool, `N` from 1 to %d (required)", gen.MaxAnalysts))
	fs.StringVar(&c.years, "years", "", fmt.Sprintf("length of the history in years, `N` from 1 to %d (required)", gen.MaxYears))
	fs.StringVar(&c.seed, "seed", "", "the random seed `S`, a whole number; other seeds give other histories (required)")
	fs.StringVar(&c.end, "end", gen.DefaultEnd.Format(time.DateOnly), "the last `DATE` of the history, YYYY-MM-DD, not in the future")
	fs.BoolVar(&c.splits, "splits", false, "add stock splits, about one per instrument per five years, prices and targets continuing on the new basis (CSV gains a ratio column)")
	fs.StringVarP(&c.out, "out", "o", "", "write to a new `FILE` (left alone on failure) instead of standard output")
	c.forceFlag.define(fs, "the --out file")
	fs.StringVar(&c.format, "format", "", "jsonl or csv (default: from the --out extension .jsonl or .csv, else jsonl)")
}

func (c *genCmd) run(ctx context.Context, a *app, args []string) error {
	if err := required(map[string]string{"instruments": c.instruments, "analysts": c.analysts, "years": c.years, "seed": c.seed}); err != nil {
		return err
	}
	if len(args) > 0 {
		return usagef("gen takes no arguments, got %s", strings.Join(args, " "))
	}
	cfg, err := c.config(a.now())
	if err != nil {
		return err
	}
	format := gen.JSONL
	toStdout := c.out == "" || c.out == "-"
	switch {
	case c.format != "":
		if format, err = gen.ParseFormat(c.format); err != nil {
			return err
		}
	case !toStdout:
		if f, ok := gen.FormatOf(c.out); ok {
			format = f
		}
	}
	began := a.now()
	var stats gen.Stats
	generate := func(w io.Writer) error {
		stats, err = gen.Generate(ctx, w, cfg, format)
		if errors.Is(err, context.Canceled) {
			return errors.New("generation interrupted")
		}
		return err
	}
	if toStdout {
		if err := generate(a.stdout); err != nil {
			return err
		}
		return c.summary(a.stderr, stats, "standard output", a.now().Sub(began))
	}
	// gen touches no store, but the one CONSENSUS_STORE (or the default)
	// names is protected all the same: a history is never written over it.
	if err := outfile.Write(c.out, outputOptions(a, &storeFlag{}, "--out", c.force), generate); err != nil {
		return err
	}
	return c.summary(a.stdout, stats, c.out, a.now().Sub(began))
}

// config reads the flags into a gen.Config, refusing an end in the future of
// now: the import would refuse every row after it.
func (c *genCmd) config(now time.Time) (gen.Config, error) {
	var cfg gen.Config
	var err error
	for _, f := range []struct {
		name, text string
		into       *int
	}{
		{"instruments", c.instruments, &cfg.Instruments},
		{"analysts", c.analysts, &cfg.Analysts},
		{"years", c.years, &cfg.Years},
	} {
		if *f.into, err = strconv.Atoi(strings.TrimSpace(f.text)); err != nil {
			return cfg, &domain.ValidationError{Field: f.name, Value: f.text, Reason: "must be a whole number"}
		}
	}
	if cfg.Seed, err = strconv.ParseUint(strings.TrimSpace(c.seed), 10, 64); err != nil {
		return cfg, &domain.ValidationError{Field: "seed", Value: c.seed, Reason: "must be a whole number from 0 to 18446744073709551615"}
	}
	if cfg.End, err = time.Parse(time.DateOnly, strings.TrimSpace(c.end)); err != nil {
		return cfg, &domain.ValidationError{Field: "end", Value: c.end, Reason: "is not a date (YYYY-MM-DD)"}
	}
	if domain.EndOfDay(cfg.End).After(now) {
		return cfg, &domain.ValidationError{Field: "end", Value: c.end,
			Reason: fmt.Sprintf("is not over yet, and a history may not reach into the future; give an earlier --end, such as %s",
				now.UTC().AddDate(0, 0, -1).Format(time.DateOnly))}
	}
	cfg.Splits = c.splits
	return cfg, cfg.Validate()
}

func (c *genCmd) summary(w io.Writer, s gen.Stats, dest string, took time.Duration) error {
	rate := ""
	if took > 0 {
		rate = fmt.Sprintf(" in %s (%.0f rows/s)", took.Round(time.Microsecond), float64(s.Rows())/took.Seconds())
		if took >= 10*time.Millisecond {
			rate = fmt.Sprintf(" in %s (%.0f rows/s)", took.Round(time.Millisecond), float64(s.Rows())/took.Seconds())
		}
	}
	split := ""
	if s.Splits > 0 {
		split = fmt.Sprintf(", split %d", s.Splits)
	}
	_, err := fmt.Fprintf(w, "generated %d rows from %s to %s to %s (rating %d, target %d, withdraw %d, close %d, retract %d%s)%s\n",
		s.Rows(), s.From.Format(time.DateOnly), s.To.Format(time.DateOnly), dest,
		s.Ratings, s.Targets, s.Withdrawals, s.Closes, s.Retractions, split, rate)
	return err
}
