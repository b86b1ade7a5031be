package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"github.com/google/uuid"
)

// ErrUnknownEventType is returned for a stored event of a type this version
// does not know: a newer version of consensus wrote it (as versions before
// splits meet SplitRecorded). It is not damage, and callers say so.
var ErrUnknownEventType = errors.New("event type unknown to this version of consensus (written by a newer version of consensus; upgrade to read it)")

// EncodeEvent returns the event's stored data: compact JSON with fields in a
// fixed order, so the same event always encodes to the same bytes (the hash
// chain and content-derived ids depend on it).
func EncodeEvent(e Event) ([]byte, error) {
	if err := CheckEvent(e); err != nil {
		return nil, err
	}
	if b, ok := encodeCanonical(e); ok {
		return b, nil
	}
	return json.Marshal(e)
}

// EncodeMetadata encodes an event's metadata as the store keeps it: the
// JSON encoding/json writes for Metadata.
func EncodeMetadata(m Metadata) ([]byte, error) {
	if b, ok := encodeMetadata(m); ok {
		return b, nil
	}
	return json.Marshal(m)
}

// DecodeEvent reads stored event data of the given type. It rejects unknown
// types, unknown fields and values that break the event's invariants, so a
// decoded event is always one the ledger could have written.
func DecodeEvent(typ string, data []byte) (Event, error) {
	if e, ok := decodeCanonical(typ, data); ok && CheckEvent(e) == nil {
		return e, nil
	}
	return decodeStrict(typ, data)
}

// decodeStrict decodes with encoding/json, rejecting unknown fields.
func decodeStrict(typ string, data []byte) (Event, error) {
	i := slices.IndexFunc(eventTypes, func(e Event) bool { return e.Type() == typ })
	if i < 0 {
		return nil, fmt.Errorf("%w: %q", ErrUnknownEventType, typ)
	}
	e, err := decodeAs(reflect.TypeOf(eventTypes[i]), data)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", typ, err)
	}
	if err := CheckEvent(e); err != nil {
		return nil, fmt.Errorf("decode %s: %w", typ, err)
	}
	return e, nil
}

// decodeAs decodes data into a new value of the event struct t.
func decodeAs(t reflect.Type, data []byte) (Event, error) {
	v := reflect.New(t)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v.Interface()); err != nil {
		return nil, err
	}
	if len(bytes.Trim(data[dec.InputOffset():], " \t\r\n")) != 0 {
		return nil, fmt.Errorf("trailing data after the event")
	}
	return v.Elem().Interface().(Event), nil
}

// CheckEvent enforces the invariants every stored event satisfies, so that
// events read from any encoding (JSON, a snapshot) are ones the ledger could
// have written.
func CheckEvent(e Event) error {
	if e == nil {
		return fmt.Errorf("no event")
	}
	// Stored events are held to the rules every version wrote them by, not
	// to today's input rules: a symbol such as "-2-3" or an analyst id not
	// in NFC, recorded before those were refused, must stay readable.
	if !storedSymbol(string(e.Symbol())) {
		return invalid("instrument", string(e.Symbol()), "is not a valid symbol")
	}
	if e.Effective().IsZero() {
		return invalid("effective_at", "", "is missing")
	}
	if e.Effective().Before(EarliestEffective) {
		return invalid("effective_at", FormatTime(e.Effective()), "is before 1900")
	}
	validAnalyst := func(a Analyst) error {
		if checkAnalyst(string(a)) != nil {
			return invalid("analyst", string(a), "is not a valid analyst id")
		}
		return nil
	}
	checkMoney := func(field string, m Money) error {
		if m <= 0 || m > MaxMoney {
			return invalid(field, m.String(), "is out of range")
		}
		return nil
	}
	checkCurrency := func(c Currency) error {
		if v, err := ParseCurrency(string(c)); err != nil || v != c {
			return invalid("currency", string(c), "must be three upper-case letters")
		}
		return nil
	}
	switch e := e.(type) {
	case RatingAdded:
		if err := validAnalyst(e.Analyst); err != nil {
			return err
		}
		if !e.Rating.Valid() {
			return invalid("rating", "", "is missing")
		}
		if e.Target != nil {
			if err := checkMoney("target", *e.Target); err != nil {
				return err
			}
		}
		return checkCurrency(e.Currency)
	case TargetRevised:
		if err := validAnalyst(e.Analyst); err != nil {
			return err
		}
		if err := checkMoney("target", e.Target); err != nil {
			return err
		}
		return checkCurrency(e.Currency)
	case RatingWithdrawn:
		return validAnalyst(e.Analyst)
	case CloseRecorded:
		if err := checkMoney("price", e.Price); err != nil {
			return err
		}
		return checkCurrency(e.Currency)
	case EventRetracted:
		if e.Retracted == uuid.Nil {
			return invalid("retracted_event_id", "", "is missing")
		}
		if e.Reason == "" {
			return invalid("reason", "", "is required")
		}
		return nil
	case SplitRecorded:
		if !e.Ratio.Valid() {
			return invalid("ratio", e.Ratio.String(), "is not a valid split ratio")
		}
		return nil
	}
	return fmt.Errorf("unknown event %T", e)
}
