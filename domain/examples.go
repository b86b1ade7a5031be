package domain

import (
	"time"

	"github.com/google/uuid"
)

// eventTypes is the one list of the event types, a zero value of each. The
// strict decoder finds a type's struct here and the fast decoder derives the
// keys each type may have from the structs' json tags, so a new type or
// field is stated once, in its struct. Examples must give one of each:
// TestExamplesCoverEveryType checks it.
var eventTypes = []Event{RatingAdded{}, TargetRevised{}, RatingWithdrawn{}, CloseRecorded{}, EventRetracted{}, SplitRecorded{}}

// Examples returns one recorded event of every type, in stream order
// (Version is the index), with every field of the event and of its
// metadata set to a value other than the zero value. Codec tests (the
// canonical JSON, its fast decoder, the snapshot codec) round-trip each
// and require it back unchanged; TestExamplesSetEveryField fails for a
// field added to an event without a value here, so a codec cannot drop a
// new field silently. Every string is plain (no JSON escapes), so the fast
// decoder must accept every example.
func Examples() []Recorded {
	at := time.Date(2025, 9, 11, 23, 59, 59, 999_999_999, time.UTC)
	target := Money(165_690_000)
	rated := uuid.MustParse("0199a1c2-0000-7000-8000-000000000001")
	events := []Event{
		RatingAdded{Instrument: "BABA", Analyst: "j.smith@firm-a", Firm: "Firm «A»", Rating: Buy, BrokerRating: "outperform",
			Target: &target, Currency: "USD", EffectiveAt: at},
		TargetRevised{Instrument: "BABA", Analyst: "j.smith@firm-a", Target: 152_980_001, Currency: "USD", EffectiveAt: at.Add(time.Hour)},
		RatingWithdrawn{Instrument: "BABA", Analyst: "j.smith@firm-a", EffectiveAt: at.Add(2 * time.Hour)},
		CloseRecorded{Instrument: "BABA", Price: 155_440_000, Currency: "USD", EffectiveAt: at.Add(3 * time.Hour)},
		EventRetracted{Instrument: "BABA", Retracted: rated, Reason: "wrong analyst", EffectiveAt: at},
		SplitRecorded{Instrument: "BABA", Ratio: Ratio{New: 4, Old: 1}, EffectiveAt: time.Date(2025, 9, 15, 0, 0, 0, 0, time.UTC)},
	}
	out := make([]Recorded, len(events))
	for i, e := range events {
		id := rated
		id[15] += byte(i)
		out[i] = Recorded{ID: id, Version: int64(i), RecordedAt: at.Add(time.Duration(i+24) * time.Hour).Truncate(time.Microsecond),
			Meta:  Metadata{RecordedBy: "cli:ana", Source: "import:f.jsonl:" + string(rune('1'+i)), CorrelationID: "corr-1", CausationID: "cause-1"},
			Event: e}
	}
	return out
}
