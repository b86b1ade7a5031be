package eventstore

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// CheckBatch checks a batch the way every backend must before any I/O, so
// an invalid batch never takes a lock or reaches a server: a stream name, a
// valid expectation, at least one event, each with an id, a type, data and
// an effective time the backend can hold (fits says which; years names the
// range for the message), and no id twice.
func CheckBatch(stream string, expected Version, events []EventData, fits func(time.Time) bool, years string) error {
	if stream == "" {
		return fmt.Errorf("no stream name: %w", ErrInvalidEvent)
	}
	if expected < Any {
		return fmt.Errorf("expected version %d is neither a version nor NoStream nor Any: %w", expected, ErrWrongVersion)
	}
	if len(events) == 0 {
		return ErrEmptyBatch
	}
	seen := make(map[uuid.UUID]int, len(events))
	for i, e := range events {
		var problem string
		switch {
		case e.ID == uuid.Nil:
			return fmt.Errorf("event %d of the batch has no id: %w", i, ErrInvalidEvent)
		case e.Type == "":
			problem = "has no type"
		case len(e.Data) == 0:
			problem = "has no data"
		case e.EffectiveAt.IsZero():
			problem = "has no effective time"
		case !fits(e.EffectiveAt):
			problem = fmt.Sprintf("has effective time %s, outside the years %s the store can hold", e.EffectiveAt.Format(time.RFC3339Nano), years)
		}
		if problem != "" {
			return fmt.Errorf("event %s %s: %w", e.ID, problem, ErrInvalidEvent)
		}
		if j, dup := seen[e.ID]; dup {
			return fmt.Errorf("event %s is both event %d and event %d of the batch: %w", e.ID, j, i, ErrDuplicateID)
		}
		seen[e.ID] = i
	}
	return nil
}

// DescribeVersion names a stream version for messages.
func DescribeVersion(v int64) string {
	switch v {
	case int64(NoStream):
		return "no stream"
	case int64(Any):
		return "any version"
	}
	return fmt.Sprintf("version %d", v)
}

// ErrNotNext is the refusal of copied records whose first version does not
// continue the stream; it wraps ErrInvalidEvent. A backend may still find
// them to be a replay of records it holds.
var ErrNotNext = fmt.Errorf("the records are not the stream's next: %w", ErrInvalidEvent)

// CheckCopies checks what can be checked of copied records (Copier) before
// any I/O: that they belong to stream, are consecutive, each matches its
// own hash and links to the one before, none is recorded before the one
// before, and the backend can hold every recorded time (fits).
func CheckCopies(stream string, records []Record, fits func(time.Time) bool) error {
	if len(records) == 0 {
		return ErrEmptyBatch
	}
	first := records[0].Version
	if first < 0 {
		return fmt.Errorf("record %s has version %d: %w", records[0].ID, first, ErrInvalidEvent)
	}
	for i, r := range records {
		fail := func(problem string) error {
			return fmt.Errorf("record %s (version %d) %s: %w", r.ID, r.Version, problem, ErrInvalidEvent)
		}
		switch {
		case r.Stream != "" && r.Stream != stream:
			return fail("belongs to stream " + r.Stream)
		case r.Version != first+int64(i):
			return fail(fmt.Sprintf("is not version %d: the records are not consecutive", first+int64(i)))
		case !fits(r.RecordedAt):
			return fail("has no recorded time the store can hold")
		case !KnownChain(r.Chain):
			return fail(fmt.Sprintf("has chain version %d, which this program does not know", r.Chain))
		case RecordHash(r.PrevHash, r) != r.Hash:
			return fail("does not match its hash: its content or times differ from the copied record's")
		}
		if i > 0 {
			switch prev := records[i-1]; {
			case r.PrevHash != prev.Hash:
				return fail("does not link to the previous record's hash")
			case r.RecordedAt.Before(prev.RecordedAt):
				return fail("was recorded before the previous record")
			}
		}
	}
	return nil
}

// CheckCopiesContinue checks that copied records, already checked with
// CheckCopies, continue a stream whose last record has the given version,
// hash, recorded time and chain version (version -1, a zero hash and chain
// 0 for an empty stream). A wrong first version wraps ErrNotNext.
func CheckCopiesContinue(records []Record, version int64, hash [32]byte, recordedAt time.Time, chain int) error {
	first := records[0]
	switch {
	case first.Chain < chain:
		return fmt.Errorf("record %s (version %d) has chain version %d, after the stream's last record of version %d: %w",
			first.ID, first.Version, first.Chain, chain, ErrInvalidEvent)
	case first.Version != version+1:
		return fmt.Errorf("record %s is version %d but the stream is at %s: %w", first.ID, first.Version, DescribeVersion(version), ErrNotNext)
	case first.PrevHash != hash:
		return fmt.Errorf("record %s (version %d) does not link to the hash of the stream's last record: %w", first.ID, first.Version, ErrInvalidEvent)
	case first.RecordedAt.Before(recordedAt):
		return fmt.Errorf("record %s (version %d) was recorded at %s, before the stream's last record (%s): %w",
			first.ID, first.Version, first.RecordedAt.Format(time.RFC3339Nano), recordedAt.Format(time.RFC3339Nano), ErrInvalidEvent)
	}
	return nil
}

// MaxClockLead is how far ahead of a writer's clock a stream's last
// recorded time may be. Recorded times never decrease within a stream, so
// one event stamped by a clock running ahead would drag every later event
// of the stream to its time, hiding them from questions asked until then.
const MaxClockLead = time.Minute

// ErrClockBehind is returned (wrapped in a *ClockError) by Append when the
// stream's last record was recorded more than MaxClockLead after the time
// the writer's clock reads: one of the two clocks is wrong, and appending
// would hide the new events.
var ErrClockBehind = errors.New("the stream's last event was recorded ahead of this machine's clock")

// ClockError names both times of an ErrClockBehind refusal.
type ClockError struct {
	Last, Now time.Time
}

func (e *ClockError) Error() string {
	return fmt.Sprintf("the stream's last event was recorded at %s, more than a minute ahead of this machine's clock (%s); "+
		"nothing was written, since new events would stay hidden until then: correct whichever clock is wrong",
		e.Last.UTC().Format(time.RFC3339Nano), e.Now.UTC().Format(time.RFC3339Nano))
}

// Unwrap makes a ClockError match ErrClockBehind.
func (e *ClockError) Unwrap() error { return ErrClockBehind }

// CheckClock is the one rule of every backend's append: refuse when the
// stream's last record (recorded at last) is more than MaxClockLead ahead
// of the writer's clock (now).
func CheckClock(last, now time.Time) error {
	if !last.After(now.Add(MaxClockLead)) {
		return nil
	}
	return &ClockError{Last: last, Now: now}
}
