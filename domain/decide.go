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
// or a *ValidationError saying why the command is refused. Rules that depend
// on history are judged as of the new event's effective time, because
// history may be backfilled out of order.
func Decide(history []Recorded, cmd Command, now time.Time) (Event, error) {
	return DecideIn(history, StreamCurrency(history), cmd, now)
}

// DecideIn is Decide with the instrument's currency given: a batch of rows
// fixes it by its first row that states one (see FirstCurrency), which may
// be effective after rows judged before it.
func DecideIn(history []Recorded, currency Currency, cmd Command, now time.Time) (Event, error) {
	var state *State
	switch c := cmd.(type) {
	case Retract:
		return decideRetract(history, c)
	case Revise:
		state = NewTimeline(history, endOfTime).Replay(c.EffectiveAt)
	case Withdraw:
		state = NewTimeline(history, endOfTime).Replay(c.EffectiveAt)
	}
	return DecideAt(state, currency, cmd, now)
}

// DecideAt judges a rating, revision, withdrawal or close against the
// instrument's state as of the command's effective time (folded with
// everything the ledger knows) and the instrument's currency ("" while none
// is fixed). It is Decide for callers that keep a running fold, such as an
// import judging many rows in effective-time order. state may be nil for
// ratings and closes, which do not depend on positions. Retractions depend on
// the whole history and go through Decide.
func DecideAt(state *State, currency Currency, cmd Command, now time.Time) (Event, error) {
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
		err = fmt.Errorf("a retraction is judged by Decide, against the whole history")
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

func decideRetract(history []Recorded, c Retract) (Event, error) {
	reason := strings.TrimSpace(c.Reason)
	if reason == "" {
		return nil, invalid("reason", "", "is required to retract an event")
	}
	if err := CheckFreeText("reason", c.Reason); err != nil {
		return nil, err
	}
	id := c.EventID.String()
	var target *Recorded
	for i, r := range history {
		if r.ID == c.EventID {
			target = &history[i]
		}
		if x, ok := r.Event.(EventRetracted); ok && x.Retracted == c.EventID {
			return nil, invalid("event_id", id, fmt.Sprintf("was already retracted by %s", r.ID))
		}
	}
	if target == nil {
		return nil, invalid("event_id", id, fmt.Sprintf("is not an event of %s", c.Instrument))
	}
	if target.Event.Type() == TypeEventRetracted {
		return nil, invalid("event_id", id, "is a retraction, which cannot itself be retracted")
	}
	return EventRetracted{Instrument: c.Instrument, Retracted: c.EventID, Reason: reason,
		EffectiveAt: target.Event.Effective()}, nil
}
