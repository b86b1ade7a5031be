package projections

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/domain"
)

// DiffRow is one field of one consensus that differs between two knowledge
// times (CONTRACT section 9, `consensus diff`): the value known at the
// earlier time, the value known at the later one, and the events the ledger
// learned in between that can have changed it. Its JSON encoding is the
// contract's: field names are the keys of `show --json`, and figures are
// JSON numbers or null as they are there.
type DiffRow struct {
	Instrument string    `json:"instrument"`
	AsOf       time.Time `json:"as_of"`
	// Field is the key of `show --json` whose value differs, such as
	// mean_target.
	Field  string `json:"field"`
	Before Figure `json:"before"`
	After  Figure `json:"after"`
	// Causes are every event of the instrument recorded after the earlier
	// knowledge time and by the later one, effective by AsOf, in stream
	// order; every field row of one as_of shares the same slice.
	Causes []Cause `json:"causes"`
}

// Cause is an event that a diff row names as a cause of the change.
type Cause struct {
	EventID     uuid.UUID `json:"event_id"`
	Type        string    `json:"type"`
	RecordedAt  time.Time `json:"recorded_at"`
	EffectiveAt time.Time `json:"effective_at"`
}

// Figure is the value of one field of a consensus exactly as `show --json`
// prints it: a number (kept as its exact text, never a float), a string
// (currency, label, close_at), true or false (adjusted), or null. Comparing two Figures compares what a
// reader of the JSON would see, so a diff never reports a change the
// published answer does not show.
type Figure struct {
	text string
	kind figureKind
}

type figureKind uint8

const (
	nullFigure figureKind = iota
	numberFigure
	stringFigure
	boolFigure
)

// IsNull reports whether the figure is JSON null (an absent value).
func (f Figure) IsNull() bool { return f.kind == nullFigure }

// String is the figure's text: the number's digits, the string itself, or
// "" for null, as CSV output writes it.
func (f Figure) String() string { return f.text }

// IsNumber reports whether the figure is a JSON number.
func (f Figure) IsNumber() bool { return f.kind == numberFigure }

// MarshalJSON writes the figure as `show --json` writes the field.
func (f Figure) MarshalJSON() ([]byte, error) {
	switch f.kind {
	case numberFigure, boolFigure:
		return []byte(f.text), nil
	case stringFigure:
		return json.Marshal(f.text)
	}
	return []byte("null"), nil
}

func numberOf(n int) Figure { return Figure{text: strconv.Itoa(n), kind: numberFigure} }

func stringOf(s string) Figure { return Figure{text: s, kind: stringFigure} }

func decimalOf(d *Decimal) Figure {
	if d == nil {
		return Figure{}
	}
	return Figure{text: d.String(), kind: numberFigure}
}

func timeOf(t *time.Time) Figure {
	if t == nil {
		return Figure{}
	}
	return stringOf(domain.FormatTime(*t))
}

// DiffFields are the fields of a consensus that a diff compares, in the
// order of `show --json`: every key but instrument, as_of, known_at and
// top, which name the question rather than answer it (known_at differs by
// construction), and splits, a list rather than a figure, whose effect
// shows in the adjusted figures and in adjusted. A test holds the names to
// the JSON keys of Consensus.
var DiffFields = []struct {
	Name  string
	Value func(*Consensus) Figure
}{
	{"currency", func(c *Consensus) Figure { return stringOf(c.Currency) }},
	{"window_days", func(c *Consensus) Figure { return numberOf(c.WindowDays) }},
	{"analysts", func(c *Consensus) Figure { return numberOf(c.Analysts) }},
	{"buy", func(c *Consensus) Figure { return numberOf(c.Buy) }},
	{"hold", func(c *Consensus) Figure { return numberOf(c.Hold) }},
	{"sell", func(c *Consensus) Figure { return numberOf(c.Sell) }},
	{"mean_rating", func(c *Consensus) Figure { return decimalOf(c.MeanRating) }},
	{"label", func(c *Consensus) Figure { return stringOf(c.Label) }},
	{"targets", func(c *Consensus) Figure { return numberOf(c.Targets) }},
	{"mean_target", func(c *Consensus) Figure { return decimalOf(c.MeanTarget) }},
	{"median_target", func(c *Consensus) Figure { return decimalOf(c.MedianTarget) }},
	{"high_target", func(c *Consensus) Figure { return decimalOf(c.HighTarget) }},
	{"low_target", func(c *Consensus) Figure { return decimalOf(c.LowTarget) }},
	{"stddev_target", func(c *Consensus) Figure { return decimalOf(c.StddevTarget) }},
	{"close", func(c *Consensus) Figure { return decimalOf(c.Close) }},
	{"close_at", func(c *Consensus) Figure { return timeOf(c.CloseAt) }},
	{"upside_pct", func(c *Consensus) Figure { return decimalOf(c.UpsidePct) }},
	{"adjusted", func(c *Consensus) Figure { return Figure{text: strconv.FormatBool(c.Adjusted), kind: boolFigure} }},
}

// Diff compares two histories of one instrument over the same grid (row i
// of each at the same as_of, as History gives for two knowledge times) and
// returns one row per as_of and field whose value differs, in grid order
// and field order, without causes (see WithCauses). Nothing differs: an
// empty, non-nil slice. Histories over different grids are a caller's bug.
func Diff(before, after []Consensus) []DiffRow {
	if len(before) != len(after) {
		panic(fmt.Sprintf("projections.Diff: %d rows before against %d after", len(before), len(after)))
	}
	rows := []DiffRow{}
	for i := range before {
		b, a := &before[i], &after[i]
		if !b.AsOf.Equal(a.AsOf) {
			panic(fmt.Sprintf("projections.Diff: row %d is as of %s before and %s after", i, domain.FormatTime(b.AsOf), domain.FormatTime(a.AsOf)))
		}
		for _, f := range DiffFields {
			if vb, va := f.Value(b), f.Value(a); vb != va {
				rows = append(rows, DiffRow{Instrument: a.Instrument, AsOf: a.AsOf, Field: f.Name, Before: vb, After: va})
			}
		}
	}
	return rows
}

// WithCauses sets the causes of every row: the events of history (the
// instrument's stream) with fromKnown < recorded_at <= toKnown and
// effective_at <= the row's as_of, retractions included (a retraction is
// effective when the event it withdraws was). Rows of one as_of share one
// slice. It returns rows for convenience.
func WithCauses(rows []DiffRow, history []domain.Recorded, fromKnown, toKnown time.Time) []DiffRow {
	learned := learnedBetween(history, fromKnown, toKnown)
	var (
		last   time.Time
		causes []Cause
	)
	for i := range rows {
		if i == 0 || !rows[i].AsOf.Equal(last) {
			last, causes = rows[i].AsOf, causesBy(learned, rows[i].AsOf)
		}
		rows[i].Causes = causes
	}
	return rows
}

// learnedBetween lists the events with fromKnown < recorded_at <= toKnown,
// in stream order.
func learnedBetween(history []domain.Recorded, fromKnown, toKnown time.Time) []domain.Recorded {
	var learned []domain.Recorded
	for _, r := range history {
		if r.RecordedAt.After(fromKnown) && !r.RecordedAt.After(toKnown) {
			learned = append(learned, r)
		}
	}
	return learned
}

// causesBy lists the learned events effective by asOf, in stream order.
func causesBy(learned []domain.Recorded, asOf time.Time) []Cause {
	causes := make([]Cause, 0, len(learned))
	for _, r := range learned {
		if eff := r.Event.Effective(); !eff.After(asOf) {
			causes = append(causes, Cause{EventID: r.ID, Type: r.Event.Type(), RecordedAt: r.RecordedAt.UTC(), EffectiveAt: eff.UTC()})
		}
	}
	return slices.Clip(causes)
}

// DiffQuery is the question of `consensus diff`: the history grid (From,
// To, Every, as `history` takes them), the two knowledge times and the
// window.
type DiffQuery struct {
	From, To           time.Time
	Every              Every
	FromKnown, ToKnown time.Time
	Window             time.Duration
}

// DiffHistory is `consensus diff` on one instrument: its History over the
// grid known at FromKnown against the same grid known at ToKnown, compared
// by Diff, with the causes of WithCauses. Each knowledge time costs one
// fold of history, except that an instrument of which nothing effective by
// To was learned in between costs none: both folds would see the same
// events up to every as_of, so nothing can differ (the currency, the one
// figure not folded by as_of, is the stream's whatever is known).
func DiffHistory(symbol domain.Symbol, history []domain.Recorded, d DiffQuery) []DiffRow {
	if len(causesBy(learnedBetween(history, d.FromKnown, d.ToKnown), d.To)) == 0 {
		return []DiffRow{}
	}
	before := History(symbol, history, d.From, d.To, d.Every, Query{KnownAt: d.FromKnown, Window: d.Window})
	after := History(symbol, history, d.From, d.To, d.Every, Query{KnownAt: d.ToKnown, Window: d.Window})
	return WithCauses(Diff(before, after), history, d.FromKnown, d.ToKnown)
}

// CheckDiffKnown refuses a diff whose earlier knowledge time comes after
// its later one, with a *domain.ValidationError naming the earlier field as
// the caller spells it (--from-known on the command line, from_known in the
// API) and the later one with its value: such a diff would list every
// change backwards. Equal times are a diff of nothing, which is no error.
func CheckDiffKnown(fromField, fromText string, fromKnown time.Time, toField, toText string, toKnown time.Time) error {
	if fromKnown.After(toKnown) {
		return &domain.ValidationError{Field: fromField, Value: fromText, Reason: "is after " + toField + " " + toText}
	}
	return nil
}
