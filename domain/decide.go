package domain

import (
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Command is a request to record one fact about an instrument. Decide turns
// it into an event or refuses it.
type Command interface {
	// Symbol is the instrument the command is about.
	Symbol() Symbol
}

// Rate asks to record an analyst's rating (RatingAdded).
type Rate struct {
	Instrument   Symbol
	Analyst      Analyst
	Firm         string
	Rating       Rating
	BrokerRating string // the broker's own word, as given
	Target       *Money
	Currency     Currency
	EffectiveAt  time.Time
}

// Revise asks to replace an analyst's price target (TargetRevised).
type Revise struct {
	Instrument  Symbol
	Analyst     Analyst
	Target      Money
	Currency    Currency
	EffectiveAt time.Time
}

// Withdraw asks to record that an analyst dropped coverage (RatingWithdrawn).
type Withdraw struct {
	Instrument  Symbol
	Analyst     Analyst
	EffectiveAt time.Time
}

// RecordClose asks to record a day's closing price (CloseRecorded).
type RecordClose struct {
	Instrument  Symbol
	Price       Money
	Currency    Currency
	EffectiveAt time.Time
}

// Retract asks to withdraw an earlier event of the instrument (EventRetracted).
// A retraction read from a row that names no instrument has an empty
// Instrument until the writer finds the retracted event's; Decide judges it
// only once it has one.
type Retract struct {
	Instrument Symbol
	EventID    uuid.UUID
	Reason     string
}

func (c Rate) Symbol() Symbol        { return c.Instrument }
func (c Revise) Symbol() Symbol      { return c.Instrument }
func (c Withdraw) Symbol() Symbol    { return c.Instrument }
func (c RecordClose) Symbol() Symbol { return c.Instrument }
func (c Retract) Symbol() Symbol     { return c.Instrument }

// endOfTime is a transaction time after every recorded event: validation sees
// everything the ledger knows.
var endOfTime = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// Decide checks a command against the instrument's history (its stream, in
// stream order, as the ledger knows it now) and returns the event to append,
// or a *ValidationError saying why the command is refused. It is Judge with
// a batch of one, so a command is judged as an import row saying the same
// would be: as of the new event's effective time, because history may be
// backfilled out of order.
func Decide(history []Recorded, cmd Command, now time.Time) (Event, error) {
	v := Judge(cmd.Symbol(), history, []Entry{{Line: 1, Cmd: cmd}}, now)
	o := v.Outcomes[0]
	if o.Err != nil {
		return nil, o.Err
	}
	return o.Event, nil
}

// decideAt judges a rating, revision, withdrawal or close against the
// instrument's state as of the command's effective time (folded with
// everything the ledger knows) and the instrument's currency ("" while none
// is fixed). state may be nil for ratings and closes, which do not depend on
// positions. Retractions depend on the whole batch and are judged by Judge.
func decideAt(state *State, currency Currency, cmd Command, now time.Time) (Event, error) {
	e, err := Propose(cmd)
	if err != nil {
		return nil, err
	}
	if stated := CurrencyOf(e); stated != "" && currency != "" && stated != currency {
		return nil, invalid("currency", string(stated), fmt.Sprintf("differs from %s's currency %s", cmd.Symbol(), currency))
	}
	switch c := cmd.(type) {
	case Revise:
		err = holdsRating(state, c.Instrument, c.Analyst, c.EffectiveAt)
	case Withdraw:
		err = holdsRating(state, c.Instrument, c.Analyst, c.EffectiveAt)
	case Retract:
		err = fmt.Errorf("a retraction is judged by Judge, against the whole batch")
	}
	if err != nil {
		return nil, err
	}
	if err := CheckEffective("at", e.Effective(), now); err != nil {
		return nil, err
	}
	if err := CheckEvent(e); err != nil {
		return nil, err
	}
	return e, nil
}

// holdsRating checks that analyst a holds a rating in state.
func holdsRating(state *State, sym Symbol, a Analyst, at time.Time) error {
	if state != nil && state.Holds(a) {
		return nil
	}
	return invalid("analyst", string(a), fmt.Sprintf("holds no rating on %s at %s", sym, FormatTime(at)))
}

// Propose builds the event a command describes, without judging it against
// history. A retraction's effective time comes from the retracted event, so
// Propose leaves it zero.
func Propose(cmd Command) (Event, error) {
	switch c := cmd.(type) {
	case Rate:
		broker := strings.TrimSpace(c.BrokerRating)
		if broker == "" {
			broker = c.Rating.String()
		}
		return RatingAdded{Instrument: c.Instrument, Analyst: c.Analyst, Firm: c.Firm, Rating: c.Rating,
			BrokerRating: broker, Target: c.Target, Currency: c.Currency, EffectiveAt: c.EffectiveAt.UTC()}, nil
	case Revise:
		return TargetRevised{Instrument: c.Instrument, Analyst: c.Analyst, Target: c.Target, Currency: c.Currency, EffectiveAt: c.EffectiveAt.UTC()}, nil
	case Withdraw:
		return RatingWithdrawn{Instrument: c.Instrument, Analyst: c.Analyst, EffectiveAt: c.EffectiveAt.UTC()}, nil
	case RecordClose:
		return CloseRecorded{Instrument: c.Instrument, Price: c.Price, Currency: c.Currency, EffectiveAt: c.EffectiveAt.UTC()}, nil
	case Retract:
		return EventRetracted{Instrument: c.Instrument, Retracted: c.EventID, Reason: strings.TrimSpace(c.Reason)}, nil
	case RecordSplit:
		return SplitRecorded{Instrument: c.Instrument, Ratio: c.Ratio, EffectiveAt: c.EffectiveAt.UTC()}, nil
	}
	return nil, fmt.Errorf("unknown command %T", cmd)
}

// Describes reports whether event is what cmd records, so that a write
// repeated under the same id (a retried command, a re-run import) can be
// told apart from an id reused for something else. A retraction is what it
// retracts and why (its reason, without surrounding spaces); its effective
// time comes from history, and its instrument from the retracted event.
func Describes(cmd Command, event Event) bool {
	if c, ok := cmd.(Retract); ok {
		e, ok := event.(EventRetracted)
		return ok && e.Retracted == c.EventID && e.Reason == strings.TrimSpace(c.Reason)
	}
	want, err := Propose(cmd)
	if err != nil {
		return false
	}
	a, errA := EncodeEvent(want)
	b, errB := EncodeEvent(event)
	return errA == nil && errB == nil && string(a) == string(b)
}
