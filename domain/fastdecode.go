package domain

import (
	"encoding/json"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// decodeCanonical decodes the form EncodeEvent writes, which is what every
// stored event holds: a flat JSON object of string values, no white space,
// no escapes in the common case. It is several times faster than
// encoding/json, whose cost dominated reading long streams. It reports
// false for anything it is not sure of (an escape, a key it does not know,
// a key given twice, bytes that are not UTF-8, any value that does not
// parse), and DecodeEvent then falls back to encoding/json, so the two
// always agree on what they both accept (FuzzDecodeFastPath checks this).
func decodeCanonical(typ string, data []byte) (Event, bool) {
	var fields [8]struct{ key, value []byte }
	n := 0
	ok := eachPlainField(data, func(key, value []byte) bool {
		if n == len(fields) {
			return false
		}
		fields[n].key, fields[n].value = key, value
		n++
		return true
	})
	if !ok {
		return nil, false
	}
	var (
		seen      uint16
		value     [numKeys]string
		effective []byte
	)
	for _, f := range fields[:n] {
		k := keyIndex(f.key)
		if k < 0 || seen&(1<<k) != 0 {
			return nil, false // unknown to this decoder, or given twice
		}
		seen |= 1 << k
		if k == keyEffectiveAt {
			effective = f.value
		} else {
			value[k] = string(f.value)
		}
	}
	if seen&^allowedKeys[typ] != 0 {
		return nil, false // a key the type does not have: encoding/json refuses it
	}
	instrument, analyst, firm, rating, broker := value[keyInstrument], value[keyAnalyst], value[keyFirm], value[keyRating], value[keyBrokerRating]
	target, price, currency, reason, retracted := value[keyTarget], value[keyPrice], value[keyCurrency], value[keyReason], value[keyRetracted]
	var at time.Time
	if err := at.UnmarshalText(effective); err != nil {
		return nil, false
	}
	money := func(text string) (Money, bool) {
		var m Money
		return m, m.UnmarshalText([]byte(text)) == nil
	}
	var e Event
	switch typ {
	case TypeRatingAdded:
		var r Rating
		if r.UnmarshalText([]byte(rating)) != nil {
			return nil, false
		}
		ra := RatingAdded{Instrument: Symbol(instrument), Analyst: Analyst(analyst), Firm: firm, Rating: r,
			BrokerRating: broker, Currency: Currency(currency), EffectiveAt: at}
		if seen&(1<<keyTarget) != 0 {
			t, ok := money(target)
			if !ok {
				return nil, false
			}
			ra.Target = &t
		}
		e = ra
	case TypeTargetRevised:
		t, ok := money(target)
		if !ok {
			return nil, false
		}
		e = TargetRevised{Instrument: Symbol(instrument), Analyst: Analyst(analyst), Target: t, Currency: Currency(currency), EffectiveAt: at}
	case TypeRatingWithdrawn:
		e = RatingWithdrawn{Instrument: Symbol(instrument), Analyst: Analyst(analyst), EffectiveAt: at}
	case TypeCloseRecorded:
		p, ok := money(price)
		if !ok {
			return nil, false
		}
		e = CloseRecorded{Instrument: Symbol(instrument), Price: p, Currency: Currency(currency), EffectiveAt: at}
	case TypeEventRetracted:
		id, err := uuid.Parse(retracted)
		if err != nil || len(retracted) != 36 {
			return nil, false
		}
		e = EventRetracted{Instrument: Symbol(instrument), Retracted: id, Reason: reason, EffectiveAt: at}
	case TypeSplitRecorded:
		var r Ratio
		if r.UnmarshalText([]byte(value[keyRatio])) != nil {
			return nil, false
		}
		e = SplitRecorded{Instrument: Symbol(instrument), Ratio: r, EffectiveAt: at}
	default:
		return nil, false
	}
	return e, true
}

// The keys of the events' JSON, as bit positions.
const (
	keyInstrument = iota
	keyAnalyst
	keyFirm
	keyRating
	keyBrokerRating
	keyTarget
	keyPrice
	keyCurrency
	keyReason
	keyRetracted
	keyRatio
	keyEffectiveAt
	numKeys
)

var keyNames = [numKeys]string{"instrument", "analyst", "firm", "rating", "broker_rating", "target", "price",
	"currency", "reason", "retracted_event_id", "ratio", "effective_at"}

func keyIndex(key []byte) int {
	for i, name := range keyNames {
		if string(key) == name {
			return i
		}
	}
	return -1
}

// allowedKeys are the keys each event type's JSON may have: the json tags
// of its struct's fields, read from the structs so that they are stated
// once. A type with a key this decoder does not know gets no entry, and
// every event of it goes to encoding/json: still right, only slower, and
// TestExamplesRoundTripJSON fails until the decoder learns the key.
var allowedKeys = func() map[string]uint16 {
	allowed := map[string]uint16{}
types:
	for _, e := range eventTypes {
		t := reflect.TypeOf(e)
		var keys uint16
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			k := keyIndex([]byte(name))
			if k < 0 {
				continue types
			}
			keys |= 1 << k
		}
		allowed[e.Type()] = keys
	}
	return allowed
}()

// plainString reads the JSON string starting at data[i] (its opening quote)
// when it needs no unescaping: no backslash, no control character, valid
// UTF-8. It returns the string's bytes and the index after its closing quote.
func plainString(data []byte, i int) ([]byte, int, bool) {
	if i >= len(data) || data[i] != '"' {
		return nil, 0, false
	}
	ascii := true
	for j := i + 1; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			s := data[i+1 : j]
			if !ascii && !utf8.Valid(s) {
				return nil, 0, false
			}
			return s, j + 1, true
		case c == '\\' || c < 0x20:
			return nil, 0, false
		case c >= 0x80:
			ascii = false
		}
	}
	return nil, 0, false
}

// DecodeMetadata decodes an event's stored metadata. Like DecodeEvent, it
// reads the flat object of plain strings that the ledger writes without
// encoding/json, which cost a fifth of reading a stream, and falls back to
// encoding/json (unknown keys ignored, as always) for anything else: an
// escape, a key it does not know exactly, a key given twice, a value that is
// not a string. FuzzDecodeMetadata checks that the two agree.
func DecodeMetadata(data []byte) (Metadata, error) {
	if m, ok := metadataCanonical(data); ok {
		return m, nil
	}
	var m Metadata
	err := json.Unmarshal(data, &m)
	return m, err
}

func metadataCanonical(data []byte) (Metadata, bool) {
	var m Metadata
	fields := m.fields()
	var seen uint8
	ok := eachPlainField(data, func(key, value []byte) bool {
		k := metadataKey(key)
		if k < 0 || seen&(1<<k) != 0 {
			return false
		}
		seen |= 1 << k
		*fields[k] = string(value)
		return true
	})
	return m, ok
}

// eachPlainField calls field for each key and value of a flat JSON object
// whose keys and values are all plain strings (see plainString), in order,
// with no white space. It reports false, at the first sign of anything else
// or when field does, for the caller to fall back to encoding/json.
func eachPlainField(data []byte, field func(key, value []byte) bool) bool {
	if len(data) < 2 || data[0] != '{' || data[len(data)-1] != '}' {
		return false
	}
	for i := 1; i < len(data)-1; {
		key, next, ok := plainString(data, i)
		if !ok || next >= len(data) || data[next] != ':' {
			return false
		}
		value, after, ok := plainString(data, next+1)
		if !ok || !field(key, value) {
			return false
		}
		switch {
		case after == len(data)-1:
			i = after
		case data[after] == ',' && after+1 < len(data)-1: // a key must follow a comma
			i = after + 1
		default:
			return false
		}
	}
	return true
}

func metadataKey(key []byte) int {
	for k, name := range metadataKeys {
		if string(key) == name {
			return k
		}
	}
	return -1
}

// metadataKeys are the JSON keys of Metadata's fields (its struct tags),
// in the order of fields and of encoding/json; the fast decoder and
// encoder both use them.
var metadataKeys = [...]string{"recorded_by", "source", "correlation_id", "causation_id"}

// fields are m's fields, in metadataKeys' order.
func (m *Metadata) fields() [len(metadataKeys)]*string {
	return [...]*string{&m.RecordedBy, &m.Source, &m.CorrelationID, &m.CausationID}
}
