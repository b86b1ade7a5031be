package domain

import (
	"sync"
	"time"
	"unicode/utf8"
)

// encodeCanonical writes what json.Marshal writes for an event, without its
// reflection: json.Marshal took about 8 % of a bulk import's CPU. It
// reports false for anything it is not sure of (a string json.Marshal would
// escape, a rating off the scale, a time json.Marshal might refuse, a type
// it does not know), and EncodeEvent then calls json.Marshal, so the two
// always write the same bytes (TestEncodeFastPath, FuzzEncodeFastPath).
// The field names, their order and omitempty follow the structs' tags;
// TestEncodeFastPathTakesEveryExample fails for a field or tag changed in
// a struct and not here, as Examples sets every field.
func encodeCanonical(e Event) ([]byte, bool) {
	w := newPlainWriter()
	defer w.free()
	switch e := e.(type) {
	case RatingAdded:
		w.str(`{"instrument":`, string(e.Instrument))
		w.str(`,"analyst":`, string(e.Analyst))
		if e.Firm != "" {
			w.str(`,"firm":`, e.Firm)
		}
		if !e.Rating.Valid() {
			return nil, false
		}
		w.str(`,"rating":`, e.Rating.String())
		w.str(`,"broker_rating":`, e.BrokerRating)
		if e.Target != nil {
			w.str(`,"target":`, e.Target.String())
		}
		w.str(`,"currency":`, string(e.Currency))
		w.time(`,"effective_at":`, e.EffectiveAt)
	case TargetRevised:
		w.str(`{"instrument":`, string(e.Instrument))
		w.str(`,"analyst":`, string(e.Analyst))
		w.str(`,"target":`, e.Target.String())
		w.str(`,"currency":`, string(e.Currency))
		w.time(`,"effective_at":`, e.EffectiveAt)
	case RatingWithdrawn:
		w.str(`{"instrument":`, string(e.Instrument))
		w.str(`,"analyst":`, string(e.Analyst))
		w.time(`,"effective_at":`, e.EffectiveAt)
	case CloseRecorded:
		w.str(`{"instrument":`, string(e.Instrument))
		w.str(`,"price":`, e.Price.String())
		w.str(`,"currency":`, string(e.Currency))
		w.time(`,"effective_at":`, e.EffectiveAt)
	case EventRetracted:
		w.str(`{"instrument":`, string(e.Instrument))
		w.str(`,"retracted_event_id":`, e.Retracted.String())
		w.str(`,"reason":`, e.Reason)
		w.time(`,"effective_at":`, e.EffectiveAt)
	case SplitRecorded:
		w.str(`{"instrument":`, string(e.Instrument))
		w.str(`,"ratio":`, e.Ratio.String())
		w.time(`,"effective_at":`, e.EffectiveAt)
	default:
		return nil, false
	}
	w.b = append(w.b, '}')
	return w.bytes()
}

// encodeMetadata is encodeCanonical for metadata.
func encodeMetadata(m Metadata) ([]byte, bool) {
	w := newPlainWriter()
	defer w.free()
	sep := byte('{')
	for k, value := range m.fields() {
		if *value != "" { // omitempty
			w.b = append(w.b, sep, '"')
			w.b = append(w.b, metadataKeys[k]...)
			w.str(`":`, *value)
			sep = ','
		}
	}
	if sep == '{' {
		w.b = append(w.b, '{')
	}
	w.b = append(w.b, '}')
	return w.bytes()
}

// plainWriter appends a JSON object's members whose strings need no escape;
// plain turns false at the first that would.
type plainWriter struct {
	b     []byte
	plain bool
	buf   *[]byte // where b came from
}

// scratch holds the buffers plainWriters write into.
var scratch = sync.Pool{New: func() any { return new([]byte) }}

func newPlainWriter() *plainWriter {
	buf := scratch.Get().(*[]byte)
	return &plainWriter{b: (*buf)[:0], plain: true, buf: buf}
}

// free gives the writer's buffer back for another to write into.
func (w *plainWriter) free() {
	*w.buf = w.b[:0]
	scratch.Put(w.buf)
}

// bytes returns a copy of what was written, no longer than it, and
// whether every string was plain. Writing into a pooled buffer and copying
// out, as encoding/json does, keeps the batches an import holds as small
// as encoding/json's.
func (w *plainWriter) bytes() ([]byte, bool) {
	if !w.plain {
		return nil, false
	}
	return append([]byte(nil), w.b...), true
}

// str appends prefix and s as a JSON string.
func (w *plainWriter) str(prefix, s string) {
	for i := 0; i < len(s); {
		// encoding/json escapes control characters, the quote, the
		// backslash and, by default, <, > and &; it rewrites bytes that are
		// not UTF-8 and escapes U+2028 and U+2029. Those are left to it.
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				w.plain = false
				return
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			w.plain = false
			return
		}
		i += size
	}
	w.b = append(w.b, prefix...)
	w.b = append(w.b, '"')
	w.b = append(w.b, s...)
	w.b = append(w.b, '"')
}

// time appends prefix and t as time.Time's MarshalJSON writes it, for a
// time in UTC (MarshalJSON refuses some offsets) within the years it
// writes.
func (w *plainWriter) time(prefix string, t time.Time) {
	if _, offset := t.Zone(); offset != 0 || t.Year() < 0 || t.Year() > 9999 {
		w.plain = false
		return
	}
	w.b = append(w.b, prefix...)
	w.b = append(w.b, '"')
	w.b = t.AppendFormat(w.b, time.RFC3339Nano)
	w.b = append(w.b, '"')
}
