// Package gen writes deterministic synthetic histories in the import format
// of CONTRACT section 5, for load tests and demonstrations of the ledger.
//
// A history has a daily close per instrument and trading day (a log-normal
// random walk in exact integer arithmetic) and, for each instrument, the
// ratings of a random subset of an analyst pool: initiations in canonical
// and broker wording, target revisions around quarterly reports, upgrades
// and downgrades, withdrawals and re-initiations, analysts who fall silent,
// and a few feed errors that are retracted days later. With Config.Splits,
// instruments also split their shares (about once in five years each), and
// prices and targets continue on the new basis. Every row carries an
// explicit id, so retractions can name the row they withdraw, and every row
// is valid against the history as of its effective time.
//
// The output depends only on the Config: the same configuration gives the
// same bytes on every run, platform and Go release (the generator uses its
// own integer random source, never the clock). Rows are streamed: memory is
// proportional to the instruments and their coverage, never to the output.
package gen

import (
	"bufio"
	"context"
	"crypto/sha1"
	"fmt"
	"hash"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/domain"
)

// Limits of a Config: large enough for any load test, small enough that a
// typing slip does not start a run of days.
const (
	MaxInstruments = 100_000
	MaxAnalysts    = 1_000_000
	MaxYears       = 100
)

// DefaultEnd is the last day of a history when Config.End is zero: a fixed
// date, so output never depends on when it is generated.
var DefaultEnd = time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)

// Config says what to generate. Equal configs give byte-identical output.
type Config struct {
	Instruments int    // number of instruments, 1 to MaxInstruments
	Analysts    int    // size of the analyst pool, 1 to MaxAnalysts
	Years       int    // length of the history, 1 to MaxYears
	Seed        uint64 // any value; different seeds give different histories
	// End is the last day of the history (its UTC date counts); zero means
	// DefaultEnd. The history covers the Years years up to and including it.
	End time.Time
	// Splits adds stock splits (rows of type split, CONTRACT section 7):
	// about one per instrument per five years. Off, the output is byte for
	// byte what it was before splits existed (no ratio column, the same ids).
	Splits bool
}

// end returns the last day of the history, at midnight UTC.
func (c Config) end() time.Time {
	if c.End.IsZero() {
		return DefaultEnd
	}
	y, m, d := c.End.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// start returns the first day of the history, at midnight UTC.
func (c Config) start() time.Time { return c.end().AddDate(-c.Years, 0, 1) }

// Validate checks every field, returning a *domain.ValidationError that
// names the field (as the gen command's flag) for the first one at fault.
func (c Config) Validate() error {
	checks := []struct {
		field      string
		value, max int
	}{
		{"instruments", c.Instruments, MaxInstruments},
		{"analysts", c.Analysts, MaxAnalysts},
		{"years", c.Years, MaxYears},
	}
	for _, k := range checks {
		if k.value < 1 || k.value > k.max {
			return &domain.ValidationError{Field: k.field, Value: strconv.Itoa(k.value),
				Reason: fmt.Sprintf("must be between 1 and %d", k.max)}
		}
	}
	if c.start().Before(domain.EarliestEffective) {
		return &domain.ValidationError{Field: "years", Value: strconv.Itoa(c.Years),
			Reason: fmt.Sprintf("reaches back before 1900 from %s", c.end().Format(time.DateOnly))}
	}
	if c.end().Year() > 9999 {
		return &domain.ValidationError{Field: "end", Value: c.end().Format(time.DateOnly), Reason: "is after the year 9999"}
	}
	return nil
}

// Format is an output format of the import: JSON Lines or CSV.
type Format int

// The two import formats.
const (
	JSONL Format = iota // one JSON object per line, empty fields left out
	CSV                 // a header row of Columns, then one row per line
)

// String returns the format's name as the --format flag spells it.
func (f Format) String() string {
	switch f {
	case JSONL:
		return "jsonl"
	case CSV:
		return "csv"
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// ParseFormat reads a format name: jsonl or csv, in any case.
func ParseFormat(name string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "jsonl":
		return JSONL, nil
	case "csv":
		return CSV, nil
	}
	return 0, &domain.ValidationError{Field: "format", Value: name, Reason: "is not a format (use jsonl or csv)"}
}

// FormatOf returns the format a file name's extension implies (.jsonl,
// .ndjson or .json for JSON Lines, .csv for CSV), and false for any other.
func FormatOf(path string) (Format, bool) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".ndjson", ".json":
		return JSONL, true
	case ".csv":
		return CSV, true
	}
	return 0, false
}

// Stats counts what Generate wrote.
type Stats struct {
	Ratings     int64 // rows of type rating (RatingAdded)
	Targets     int64 // rows of type target (TargetRevised)
	Withdrawals int64 // rows of type withdraw (RatingWithdrawn)
	Closes      int64 // rows of type close (CloseRecorded)
	Retractions int64 // rows of type retract (EventRetracted)
	Splits      int64 // rows of type split (SplitRecorded); 0 unless Config.Splits
	Coverage    int   // (instrument, analyst) pairs covered at the start
	TradingDays int   // weekdays of the history, less 1 January and 25 December
	From, To    time.Time
}

// Rows is the number of rows written, the CSV header not counted.
func (s Stats) Rows() int64 {
	return s.Ratings + s.Targets + s.Withdrawals + s.Closes + s.Retractions + s.Splits
}

// genNamespace is the UUID namespace under which each configuration gets
// its own namespace for the ids of its rows.
var genNamespace = uuid.MustParse("0d6c5bb4-2f1e-4b7a-9c3d-5e8f7a6b1c20")

// Namespace returns the UUID v5 namespace of a configuration's row ids. A
// row's id is uuid.NewSHA1(Namespace(cfg), "SYMBOL#N") for the instrument's
// N-th row (from 1), so ids are stable for a configuration, whatever the
// format, and distinct between configurations: two different histories never
// claim the same id for different content. A history with splits has
// other prices than the one without, so Splits is part of its name; without
// it the name is the one it always was.
func Namespace(cfg Config) uuid.UUID {
	name := fmt.Sprintf("consensus gen v1 instruments=%d analysts=%d years=%d seed=%d end=%s",
		cfg.Instruments, cfg.Analysts, cfg.Years, cfg.Seed, cfg.end().Format(time.DateOnly))
	if cfg.Splits {
		name += " splits=true"
	}
	return uuid.NewSHA1(genNamespace, []byte(name))
}

// generator holds the state of one run.
type generator struct {
	cfg         Config
	days        int // trading days in the history
	firms       []*firm
	instruments []instrument
	symbols     map[string]struct{}
	namespace   uuid.UUID
	sha         hash.Hash
	enc         encoder
	stats       Stats

	date     [10]byte // the current trading day, YYYY-MM-DD
	stampBuf []byte
	idData   []byte
	sum      []byte
	firing   []firingSlot
}

// Generate writes the history cfg describes to w in the given format, row by
// row through a buffer, and returns the counts. Rows of one instrument come
// in effective-time order (a retraction comes days after the row it
// retracts, and states no time of its own); instruments are interleaved day
// by day. It stops early with ctx's error when ctx is done.
//
// Closes are bare dates (the end of the day, UTC); ratings, revisions and
// withdrawals are RFC 3339 times within the market's hours. No row is after
// the end of cfg's last day: callers that must not write the future check
// that day against their clock.
func Generate(ctx context.Context, w io.Writer, cfg Config, format Format) (Stats, error) {
	if err := cfg.Validate(); err != nil {
		return Stats{}, err
	}
	if format != JSONL && format != CSV {
		return Stats{}, &domain.ValidationError{Field: "format", Value: format.String(), Reason: "is not a format (use jsonl or csv)"}
	}
	start, end := cfg.start(), cfg.end()
	g := &generator{
		cfg:       cfg,
		firms:     newFirms(cfg.Seed, cfg.Analysts),
		symbols:   make(map[string]struct{}, cfg.Instruments),
		namespace: Namespace(cfg),
		sha:       sha1.New(),
		stampBuf:  make([]byte, 0, 32),
	}
	for d := start; !d.After(end); d = d.AddDate(0, 0, 1) {
		if tradingDay(d) {
			g.days++
		}
	}
	g.stats.TradingDays, g.stats.From, g.stats.To = g.days, start, end
	g.instruments = make([]instrument, cfg.Instruments)
	for i := range g.instruments {
		g.instruments[i] = g.newInstrument(i)
	}
	g.symbols = nil // only needed to keep symbols distinct
	bw := bufio.NewWriterSize(w, 256<<10)
	g.enc = encoder{w: bw, format: format, line: make([]byte, 0, 512), cols: Columns}
	if cfg.Splits {
		g.enc.cols = SplitColumns
	}
	g.enc.header()
	t := int32(0)
	for d := start; !d.After(end); d = d.AddDate(0, 0, 1) {
		if !tradingDay(d) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return g.stats, err
		}
		g.setDate(d)
		for i := range g.instruments {
			g.day(&g.instruments[i], t)
		}
		if g.enc.err != nil {
			return g.stats, fmt.Errorf("write generated rows: %w", g.enc.err)
		}
		t++
	}
	// Errors still unnoticed when the history ends are retracted at its end.
	for i := range g.instruments {
		g.noticeErrors(&g.instruments[i], never)
	}
	if g.enc.err == nil {
		g.enc.err = bw.Flush()
	}
	if g.enc.err != nil {
		return g.stats, fmt.Errorf("write generated rows: %w", g.enc.err)
	}
	return g.stats, nil
}

// tradingDay reports whether d is a trading day of the synthetic calendar:
// a weekday other than 1 January and 25 December.
func tradingDay(d time.Time) bool {
	switch d.Weekday() {
	case time.Saturday, time.Sunday:
		return false
	}
	_, m, day := d.Date()
	return !(m == time.January && day == 1 || m == time.December && day == 25)
}

func (g *generator) setDate(d time.Time) {
	y, m, day := d.Date()
	g.date = [10]byte{byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-',
		byte('0' + int(m)/10), byte('0' + int(m)%10), '-', byte('0' + day/10), byte('0' + day%10)}
}
