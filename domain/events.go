package domain

import (
	"time"

	"github.com/google/uuid"
)

// The event types, as stored in the event store.
const (
	TypeRatingAdded     = "RatingAdded"
	TypeTargetRevised   = "TargetRevised"
	TypeRatingWithdrawn = "RatingWithdrawn"
	TypeCloseRecorded   = "CloseRecorded"
	TypeEventRetracted  = "EventRetracted"
	TypeSplitRecorded   = "SplitRecorded"
)

// Event is one immutable fact about an instrument. The implementations
// listed in eventTypes are the only ones; their JSON encoding is the event's
// stored data.
type Event interface {
	// Type is the stored type name, such as "RatingAdded".
	Type() string
	// Symbol is the instrument the event belongs to.
	Symbol() Symbol
	// Effective is when the fact happened in the market (valid time).
	Effective() time.Time
}

// RatingAdded records an analyst's rating, superseding any earlier one, with
// an optional 12-month price target.
type RatingAdded struct {
	Instrument   Symbol    `json:"instrument"`
	Analyst      Analyst   `json:"analyst"`
	Firm         string    `json:"firm,omitempty"`
	Rating       Rating    `json:"rating"`
	BrokerRating string    `json:"broker_rating"`
	Target       *Money    `json:"target,omitempty"`
	Currency     Currency  `json:"currency"`
	EffectiveAt  time.Time `json:"effective_at"`
}

// TargetRevised replaces the price target of the analyst's current rating.
type TargetRevised struct {
	Instrument  Symbol    `json:"instrument"`
	Analyst     Analyst   `json:"analyst"`
	Target      Money     `json:"target"`
	Currency    Currency  `json:"currency"`
	EffectiveAt time.Time `json:"effective_at"`
}

// RatingWithdrawn records that the analyst dropped coverage.
type RatingWithdrawn struct {
	Instrument  Symbol    `json:"instrument"`
	Analyst     Analyst   `json:"analyst"`
	EffectiveAt time.Time `json:"effective_at"`
}

// CloseRecorded records the closing price of one trading day.
type CloseRecorded struct {
	Instrument  Symbol    `json:"instrument"`
	Price       Money     `json:"price"`
	Currency    Currency  `json:"currency"`
	EffectiveAt time.Time `json:"effective_at"`
}

// EventRetracted withdraws an earlier event from every answer known after it
// was recorded. Its effective time is that of the retracted event.
type EventRetracted struct {
	Instrument  Symbol    `json:"instrument"`
	Retracted   uuid.UUID `json:"retracted_event_id"`
	Reason      string    `json:"reason"`
	EffectiveAt time.Time `json:"effective_at"`
}

func (RatingAdded) Type() string     { return TypeRatingAdded }
func (TargetRevised) Type() string   { return TypeTargetRevised }
func (RatingWithdrawn) Type() string { return TypeRatingWithdrawn }
func (CloseRecorded) Type() string   { return TypeCloseRecorded }
func (EventRetracted) Type() string  { return TypeEventRetracted }

func (e RatingAdded) Symbol() Symbol     { return e.Instrument }
func (e TargetRevised) Symbol() Symbol   { return e.Instrument }
func (e RatingWithdrawn) Symbol() Symbol { return e.Instrument }
func (e CloseRecorded) Symbol() Symbol   { return e.Instrument }
func (e EventRetracted) Symbol() Symbol  { return e.Instrument }

func (e RatingAdded) Effective() time.Time     { return e.EffectiveAt }
func (e TargetRevised) Effective() time.Time   { return e.EffectiveAt }
func (e RatingWithdrawn) Effective() time.Time { return e.EffectiveAt }
func (e CloseRecorded) Effective() time.Time   { return e.EffectiveAt }
func (e EventRetracted) Effective() time.Time  { return e.EffectiveAt }

// Metadata is what the ledger records about how it learned an event, besides
// the time (recorded_at, kept by the store).
type Metadata struct {
	RecordedBy    string `json:"recorded_by,omitempty"`
	Source        string `json:"source,omitempty"`
	CorrelationID string `json:"correlation_id,omitempty"`
	CausationID   string `json:"causation_id,omitempty"`
}

// Recorded is an event as the ledger holds it: with its id, its place in the
// instrument's stream and the time the ledger learned it.
type Recorded struct {
	ID         uuid.UUID
	Version    int64     // position in the instrument's stream, from 0
	RecordedAt time.Time // transaction time, assigned by the store
	Meta       Metadata
	Event      Event
}

// StreamCurrency is the currency of an instrument: the one stated by the
// first event of its stream (in stream order) that states one, or "" for a
// stream with none yet. It is fixed once stated, even if that event is later
// retracted, so one instrument never mixes currencies.
func StreamCurrency(history []Recorded) Currency {
	for _, r := range history {
		if c := CurrencyOf(r.Event); c != "" {
			return c
		}
	}
	return ""
}

// FirstCurrency is the currency of an instrument about to receive a batch
// of commands (an import file's rows, an API request's): the stored one,
// when its history has one, or else the one stated by the first command, in
// the writer's order, that states one. cmds must be in that order: the file's
// line order, the request's array order. The batch is judged in
// effective-time order, so the first row written must not lose its currency
// to a row of the same file that is effective earlier: whoever wrote the
// file put the instrument's currency first.
func FirstCurrency(history []Recorded, cmds []Command) Currency {
	if c := StreamCurrency(history); c != "" {
		return c
	}
	for _, cmd := range cmds {
		if c := StatedCurrency(cmd); c != "" {
			return c
		}
	}
	return ""
}

// StatedCurrency is the currency a command states, "" for a withdrawal or
// a retraction: CurrencyOf for commands, without building the event.
func StatedCurrency(cmd Command) Currency {
	switch c := cmd.(type) {
	case Rate:
		return c.Currency
	case Revise:
		return c.Currency
	case RecordClose:
		return c.Currency
	}
	return ""
}

// CurrencyOf returns the currency an event states, or "" for events that
// state none (withdrawals and retractions).
func CurrencyOf(e Event) Currency {
	switch e := e.(type) {
	case RatingAdded:
		return e.Currency
	case TargetRevised:
		return e.Currency
	case CloseRecorded:
		return e.Currency
	}
	return ""
}

// AnalystOf returns the analyst an event is about, and false for events
// about no analyst (closes, splits and retractions).
func AnalystOf(e Event) (Analyst, bool) {
	switch e := e.(type) {
	case RatingAdded:
		return e.Analyst, true
	case TargetRevised:
		return e.Analyst, true
	case RatingWithdrawn:
		return e.Analyst, true
	}
	return "", false
}
