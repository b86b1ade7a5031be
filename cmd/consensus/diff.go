package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/google/uuid"
	"github.com/spf13/pflag"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/projections"
)

type diffCmd struct {
	storeFlag
	fromKnown, toKnown, window string
	from, to, every            string
	all, json, csv             bool
}

func (c *diffCmd) usage() (string, string) {
	return "diff SYMBOL|--all --from-known T1 [--to-known T2] --from D --to D [--every day|week|month] [--window 90d] [--json|--csv]",
		"Shows what changed a consensus between two knowledge times, and the events that changed it."
}

func (c *diffCmd) details() string {
	return "For every as_of of the history grid (as `history` builds it), the consensus known at T1 is compared\n" +
		"with the one known at T2 (default now): one row per as_of and field that differs, with both values and\n" +
		"its causes, every event of the instrument recorded after T1 and by T2 and effective by that as_of\n" +
		"(retractions included). Nothing differs: no rows, exit status 0."
}

func (c *diffCmd) define(fs *pflag.FlagSet) {
	c.storeFlag.define(fs)
	fs.StringVar(&c.fromKnown, "from-known", "", "the earlier transaction time T1 (required)")
	fs.StringVar(&c.toKnown, "to-known", "", "the later transaction time T2 (default now)")
	fs.StringVar(&c.from, "from", "", "first date of the grid (required)")
	fs.StringVar(&c.to, "to", "", "last date of the grid (required)")
	fs.StringVar(&c.every, "every", "day", "period: day, week (ending Sunday) or month")
	fs.StringVar(&c.window, "window", "90d", "ratings older than this stop counting; 0d means never")
	fs.BoolVar(&c.all, "all", false, "every instrument, in symbol order")
	fs.BoolVar(&c.json, "json", false, "print a JSON array")
	fs.BoolVar(&c.csv, "csv", false, "print CSV with a header row")
}

// query reads the diff's flags into the question, refusing a grid longer
// than a history's and knowledge times in reverse order.
func (c *diffCmd) query(a *app) (projections.DiffQuery, error) {
	var d projections.DiffQuery
	var err error
	if d.From, d.To, d.Every, err = historyGrid(c.from, c.to, c.every); err != nil {
		return d, err
	}
	if d.FromKnown, err = domain.ParseTime("from-known", c.fromKnown); err != nil {
		return d, err
	}
	d.ToKnown = a.now().UTC()
	toText := "now (" + domain.FormatTime(d.ToKnown) + ")"
	if c.toKnown != "" {
		if d.ToKnown, err = domain.ParseTime("to-known", c.toKnown); err != nil {
			return d, err
		}
		toText = c.toKnown
	}
	if err := projections.CheckDiffKnown("from-known", c.fromKnown, d.FromKnown, "--to-known", toText, d.ToKnown); err != nil {
		return d, err
	}
	d.Window, err = projections.ParseWindow(c.window)
	return d, err
}

func (c *diffCmd) run(ctx context.Context, a *app, args []string) error {
	if err := required(map[string]string{"from-known": c.fromKnown, "from": c.from, "to": c.to}); err != nil {
		return err
	}
	var sym domain.Symbol
	switch {
	case c.json && c.csv:
		return usagef("--json and --csv cannot be combined")
	case c.all && len(args) > 0:
		return usagef("--all takes no SYMBOL")
	case !c.all:
		var err error
		if sym, err = oneSymbol(args); err != nil {
			return err
		}
	}
	d, err := c.query(a)
	if err != nil {
		return err
	}
	l, closeStore, err := c.open(a, true)
	if err != nil {
		return err
	}
	defer closeStore()
	// diff --all --csv of a month over thousands of changed instruments
	// prints gigabytes: a larger buffer writes them in fewer system calls.
	out := bufio.NewWriterSize(a.stdout, 64<<10)
	var w diffWriter
	switch {
	case c.json:
		w = &diffJSON{w: out}
	case c.csv:
		w = newDiffCSV(out)
	default:
		w = &diffText{w: out}
	}
	if err := w.begin(); err != nil {
		return err
	}
	if c.all {
		// As with show --all: every instrument's answer is garbage once
		// written.
		collectLessOften(a, 400)
		err = l.DiffAll(ctx, d, w.rows)
	} else {
		var rows []projections.DiffRow
		if rows, err = l.Diff(ctx, sym, d); err == nil && len(rows) > 0 {
			err = w.rows(rows)
		}
	}
	if err != nil {
		// Rows already streamed stay printed; the status and the message
		// say the answer is incomplete.
		return err
	}
	if err := w.end(); err != nil {
		return err
	}
	return out.Flush()
}

// diffWriter prints diff rows in one of the three formats, an instrument's
// rows at a time, so that `diff --all` streams.
type diffWriter interface {
	begin() error
	rows([]projections.DiffRow) error
	end() error
}

// diffJSON prints the rows as one indented JSON array, the bytes writeJSON
// would print for the whole slice.
type diffJSON struct {
	w     io.Writer
	count int
}

func (j *diffJSON) begin() error { return nil }

// causesTail is how an indented row with no causes ends: the causes key
// comes last.
const causesTail = "null\n  }"

func (j *diffJSON) rows(rows []projections.DiffRow) error {
	var causes []byte
	for i, r := range rows {
		// Every field row of one as_of has the same causes, often dozens:
		// they are encoded once per as_of, indented as they stand in a row,
		// and put in place of the null a row without them ends with.
		if i == 0 || !r.AsOf.Equal(rows[i-1].AsOf) {
			var err error
			if causes, err = json.MarshalIndent(r.Causes, "    ", "  "); err != nil {
				return err
			}
		}
		r.Causes = nil
		b, err := json.MarshalIndent(r, "  ", "  ")
		if err != nil {
			return err
		}
		if !bytes.HasSuffix(b, []byte(causesTail)) {
			return fmt.Errorf("diff row encoded without causes last: %s", b)
		}
		b = append(append(b[:len(b)-len(causesTail)], causes...), "\n  }"...)
		sep := ",\n  "
		if j.count == 0 {
			sep = "[\n  "
		}
		j.count++
		if _, err := io.WriteString(j.w, sep); err != nil {
			return err
		}
		if _, err := j.w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

func (j *diffJSON) end() error {
	end := "\n]\n"
	if j.count == 0 {
		end = "[]\n"
	}
	_, err := io.WriteString(j.w, end)
	return err
}

// diffColumns are the columns of diff's CSV output.
var diffColumns = []string{"instrument", "as_of", "field", "before", "after", "causes"}

// diffCSV prints one CSV row per diff row; null is an empty cell, and the
// causes share one cell, "EVENT_ID TYPE RECORDED_AT EFFECTIVE_AT" each,
// separated by "; ". Every field row of one as_of has the same causes
// cell, often kilobytes long: it is encoded once per as_of (by
// encoding/csv, as every cell) and copied into each row, and each cause's
// text is written once per instrument.
type diffCSV struct {
	w   *bufio.Writer
	buf bytes.Buffer
	enc *csv.Writer // encodes one record into buf
}

func newDiffCSV(w *bufio.Writer) *diffCSV {
	c := &diffCSV{w: w}
	c.enc = csv.NewWriter(&c.buf)
	return c
}

// encode returns the CSV encoding of one record, without its line end;
// it is valid until the next call.
func (c *diffCSV) encode(record ...string) ([]byte, error) {
	c.buf.Reset()
	if err := c.enc.Write(record); err != nil {
		return nil, err
	}
	c.enc.Flush()
	if err := c.enc.Error(); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(c.buf.Bytes(), []byte("\n")), nil
}

func (c *diffCSV) begin() error {
	line, err := c.encode(diffColumns...)
	if err != nil {
		return err
	}
	_, err = c.w.Write(append(line, '\n'))
	return err
}

func (c *diffCSV) rows(rows []projections.DiffRow) error {
	var (
		asOf   string
		causes []byte
		texts  = map[uuid.UUID]string{}
		line   []byte
	)
	for i, r := range rows {
		if i == 0 || !r.AsOf.Equal(rows[i-1].AsOf) {
			cell, err := c.encode(causesCell(r.Causes, texts))
			if err != nil {
				return err
			}
			asOf, causes = domain.FormatTime(r.AsOf), bytes.Clone(cell)
		}
		fields, err := c.encode(r.Instrument, asOf, r.Field, r.Before.String(), r.After.String())
		if err != nil {
			return err
		}
		line = append(append(append(append(line[:0], fields...), ','), causes...), '\n')
		if _, err := c.w.Write(line); err != nil {
			return err
		}
	}
	// Each instrument's rows are printed once answered: a diff --all that
	// fails later has printed them.
	return c.w.Flush()
}

// causesCell writes causes in one CSV cell, taking each cause's text from
// texts when there and adding it there otherwise.
func causesCell(causes []projections.Cause, texts map[uuid.UUID]string) string {
	var b strings.Builder
	for i, x := range causes {
		if i > 0 {
			b.WriteString("; ")
		}
		text, ok := texts[x.EventID]
		if !ok {
			text = x.EventID.String() + " " + x.Type + " " + domain.FormatTime(x.RecordedAt) + " " + domain.FormatTime(x.EffectiveAt)
			texts[x.EventID] = text
		}
		b.WriteString(text)
	}
	return b.String()
}

func (c *diffCSV) end() error { return c.w.Flush() }

// diffText prints the rows for people: under a line naming the instrument
// and the as_of, the fields that changed with both values, then the events
// that caused the change, one a line.
type diffText struct {
	w     io.Writer
	count int
}

func (t *diffText) begin() error { return nil }

func (t *diffText) rows(rows []projections.DiffRow) error {
	for start := 0; start < len(rows); {
		end := start + 1
		for end < len(rows) && rows[end].AsOf.Equal(rows[start].AsOf) {
			end++
		}
		if t.count > 0 {
			fmt.Fprintln(t.w)
		}
		t.count++
		r := rows[start]
		fmt.Fprintf(t.w, "%s as of %s\n", r.Instrument, domain.FormatTime(r.AsOf))
		tw := tabwriter.NewWriter(t.w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  field\tbefore\tafter")
		for _, f := range rows[start:end] {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", f.Field, figureText(f.Before), figureText(f.After))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, x := range r.Causes {
			fmt.Fprintf(t.w, "  caused by %s %s, recorded %s, effective %s\n", x.Type, x.EventID,
				domain.FormatTime(x.RecordedAt), domain.FormatTime(x.EffectiveAt))
		}
		start = end
	}
	return nil
}

func (t *diffText) end() error {
	if t.count == 0 {
		_, err := fmt.Fprintln(t.w, "nothing changed")
		return err
	}
	return nil
}

// figureText writes a figure for people: "-" for null, a label or time as
// it is (through forTerminal, as every text the ledger did not write).
func figureText(f projections.Figure) string {
	if f.IsNull() {
		return "-"
	}
	return forTerminal(f.String())
}
