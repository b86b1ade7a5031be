package domain

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// The row types of the import format and their commands.
const (
	RowRating   = "rating"
	RowTarget   = "target"
	RowWithdraw = "withdraw"
	RowClose    = "close"
	RowRetract  = "retract"
	RowSplit    = "split"
)

// RowTypes are the row types, in the order messages list them.
var RowTypes = []string{RowRating, RowTarget, RowWithdraw, RowClose, RowRetract, RowSplit}

// RowTypeList names the row types in a sentence: "rating, ... or split".
var RowTypeList = strings.Join(RowTypes[:len(RowTypes)-1], ", ") + " or " + RowTypes[len(RowTypes)-1]

// ReasonNoRowType completes "type X ..." for a type not in RowTypes.
var ReasonNoRowType = "is not a row type (use " + RowTypeList + ")"

// IsRowType reports whether t is one of RowTypes.
func IsRowType(t string) bool { return slices.Contains(RowTypes, t) }

// Row is one fact as users write it, every field as text: a line of an
// import file (CONTRACT section 5) or the flags of a writing command. Fields a
// row type does not use are ignored.
type Row struct {
	Type       string
	Instrument string
	Analyst    string
	Firm       string
	Rating     string
	Target     string
	Price      string
	Currency   string
	At         string
	EventID    string // for retract: the event to retract
	Reason     string // for retract
	Ratio      string // for split
}

// Command parses the row into the command it asks for, checking every field
// with the domain's parsers; effective times may be at most five minutes
// after now. Errors are *ValidationError naming the first field at fault, by
// its name in the import format.
func (r Row) Command(now time.Time) (Command, error) {
	p := rowParser{row: r, now: now}
	var sym Symbol
	if r.Type != RowRetract || r.Instrument != "" {
		sym = p.symbol()
	}
	if p.err != nil {
		return nil, p.err
	}
	switch r.Type {
	case RowRating:
		c := Rate{Instrument: sym, Analyst: p.analyst(), Firm: p.firm(), Rating: p.rating(), BrokerRating: strings.TrimSpace(r.Rating)}
		if r.Target != "" {
			t := p.money("target", r.Target)
			c.Target = &t
		}
		c.Currency, c.EffectiveAt = p.currency(), p.at()
		return c, p.err
	case RowTarget:
		c := Revise{Instrument: sym, Analyst: p.analyst(), Target: p.money("target", r.Target), Currency: p.currency(), EffectiveAt: p.at()}
		return c, p.err
	case RowWithdraw:
		c := Withdraw{Instrument: sym, Analyst: p.analyst(), EffectiveAt: p.at()}
		return c, p.err
	case RowClose:
		c := RecordClose{Instrument: sym, Price: p.money("price", r.Price), Currency: p.currency(), EffectiveAt: p.at()}
		return c, p.err
	case RowRetract:
		// The instrument may be left out, as on the command line: the
		// Retract then has none, and the caller takes the retracted
		// event's (see Retract).
		c := Retract{Instrument: sym, EventID: p.eventID(), Reason: r.Reason}
		if p.err == nil && strings.TrimSpace(r.Reason) == "" {
			p.keep(invalid("reason", "", "is required to retract an event"))
		}
		if p.err == nil {
			p.keep(CheckFreeText("reason", r.Reason))
		}
		return c, p.err
	case RowSplit:
		for _, f := range [...]struct{ name, value string }{{"analyst", r.Analyst}, {"firm", r.Firm},
			{"rating", r.Rating}, {"target", r.Target}, {"price", r.Price}, {"currency", r.Currency}} {
			if f.value != "" {
				p.keep(invalid(f.name, f.value, "is not a field of a split (a split has instrument, ratio and at)"))
			}
		}
		c := RecordSplit{Instrument: sym, Ratio: parseRequired(&p, "ratio", r.Ratio, ParseRatio)}
		c.EffectiveAt = parseRequired(&p, "at", r.At, func(text string) (time.Time, error) { return ParseSplitAt("at", text, p.now) })
		return c, p.err
	}
	return nil, invalid("type", r.Type, ReasonNoRowType)
}

// rowParser parses a row's fields one after another and keeps the first
// error, so the code reads field by field and checks once.
type rowParser struct {
	row Row
	now time.Time
	err error
}

func (p *rowParser) keep(err error) {
	if p.err == nil {
		p.err = err
	}
}

// parseRequired parses a required field with parse, recording a missing
// field or a parse error.
func parseRequired[T any](p *rowParser, field, text string, parse func(string) (T, error)) T {
	var zero T
	if text == "" {
		p.keep(invalid(field, "", "is required"))
		return zero
	}
	v, err := parse(text)
	if err != nil {
		p.keep(err)
		return zero
	}
	return v
}

func (p *rowParser) symbol() Symbol {
	return parseRequired(p, "instrument", p.row.Instrument, func(text string) (Symbol, error) {
		s, err := ParseSymbol(text)
		// errors.AsType, not errors.As: errors.As's target escapes, and
		// was allocated for each of a backfill's millions of rows.
		if v, ok := errors.AsType[*ValidationError](err); ok {
			v.Field = "instrument" // the import format's name for the symbol
		}
		return s, err
	})
}

func (p *rowParser) analyst() Analyst {
	return parseRequired(p, "analyst", p.row.Analyst, ParseAnalyst)
}

func (p *rowParser) rating() Rating { return parseRequired(p, "rating", p.row.Rating, ParseRating) }

func (p *rowParser) currency() Currency {
	return parseRequired(p, "currency", p.row.Currency, ParseCurrency)
}

func (p *rowParser) money(field, text string) Money {
	return parseRequired(p, field, text, func(text string) (Money, error) { return ParseMoney(field, text) })
}

func (p *rowParser) at() time.Time {
	return parseRequired(p, "at", p.row.At, func(text string) (time.Time, error) { return ParseEffective("at", text, p.now) })
}

func (p *rowParser) eventID() uuid.UUID {
	return parseRequired(p, "event_id", p.row.EventID, func(text string) (uuid.UUID, error) {
		id, err := uuid.Parse(text)
		if err != nil {
			return id, invalid("event_id", text, "is not a UUID")
		}
		return id, nil
	})
}

func (p *rowParser) firm() string {
	f, err := ParseFirm(p.row.Firm)
	p.keep(err)
	return f
}
